// Command wineshim writes bcryptprimitives.dll for Wine releases that lack
// it (Wine before 9.0, as Debian 12's 8.0): the Go runtime imports
// ProcessPrng from it at start-up and dies without it. The DLL holds no
// code, only an export table whose one entry forwards ProcessPrng to
// advapi32's SystemFunction036 (RtlGenRandom), which Wine has: both fill a
// buffer with random bytes and report success in their low byte, the only
// part the runtime reads.
//
// Only the tests run under Wine use it (make wine-test); it is laid out by
// hand so that no Windows linker is needed.
package main

import (
	"encoding/binary"
	"flag"
	"log"
	"os"
)

// Layout: headers in the first 0x200 bytes of the file, the export
// section in the next 0x200, mapped at RVA 0x1000.
const (
	fileAlign    = 0x200
	sectionAlign = 0x1000
	sectionRVA   = 0x1000
	sectionOff   = 0x200
)

func main() {
	out := flag.String("out", "bcryptprimitives.dll", "file to write")
	flag.Parse()
	if err := os.WriteFile(*out, image(), 0o644); err != nil {
		log.Fatal(err)
	}
}

func image() []byte {
	edata := exportSection()
	le := binary.LittleEndian
	b := make([]byte, sectionOff+fileAlign)
	// IMAGE_DOS_HEADER: the magic, and e_lfanew at 0x3c.
	copy(b[0:], "MZ")
	le.PutUint32(b[0x3c:], 0x40)
	// PE signature.
	copy(b[0x40:], "PE\x00\x00")
	// IMAGE_FILE_HEADER at 0x44.
	fh := b[0x44:]
	le.PutUint16(fh[0:], 0x8664)  // Machine: AMD64
	le.PutUint16(fh[2:], 1)       // NumberOfSections
	le.PutUint16(fh[16:], 240)    // SizeOfOptionalHeader: PE32+
	le.PutUint16(fh[18:], 0x2022) // Characteristics: EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE | DLL
	// IMAGE_OPTIONAL_HEADER64 at 0x58.
	oh := b[0x58:]
	le.PutUint16(oh[0:], 0x20b)                    // Magic: PE32+
	le.PutUint32(oh[8:], fileAlign)                // SizeOfInitializedData
	le.PutUint32(oh[16:], 0)                       // AddressOfEntryPoint: none (no DllMain)
	le.PutUint32(oh[20:], sectionRVA)              // BaseOfCode
	le.PutUint64(oh[24:], 0x180000000)             // ImageBase
	le.PutUint32(oh[32:], sectionAlign)            // SectionAlignment
	le.PutUint32(oh[36:], fileAlign)               // FileAlignment
	le.PutUint16(oh[40:], 6)                       // MajorOperatingSystemVersion
	le.PutUint16(oh[48:], 6)                       // MajorSubsystemVersion
	le.PutUint32(oh[56:], sectionRVA+sectionAlign) // SizeOfImage
	le.PutUint32(oh[60:], sectionOff)              // SizeOfHeaders
	le.PutUint16(oh[68:], 3)                       // Subsystem: console
	le.PutUint16(oh[70:], 0x0100)                  // DllCharacteristics: NX_COMPAT
	le.PutUint64(oh[72:], 0x100000)                // SizeOfStackReserve
	le.PutUint64(oh[80:], 0x1000)                  // SizeOfStackCommit
	le.PutUint64(oh[88:], 0x100000)                // SizeOfHeapReserve
	le.PutUint64(oh[96:], 0x1000)                  // SizeOfHeapCommit
	le.PutUint32(oh[108:], 16)                     // NumberOfRvaAndSizes
	le.PutUint32(oh[112:], sectionRVA)             // DataDirectory[EXPORT].VirtualAddress
	le.PutUint32(oh[116:], uint32(len(edata)))     // DataDirectory[EXPORT].Size
	// IMAGE_SECTION_HEADER at 0x58+240.
	sh := b[0x58+240:]
	copy(sh[0:8], ".edata")
	le.PutUint32(sh[8:], uint32(len(edata))) // VirtualSize
	le.PutUint32(sh[12:], sectionRVA)        // VirtualAddress
	le.PutUint32(sh[16:], fileAlign)         // SizeOfRawData
	le.PutUint32(sh[20:], sectionOff)        // PointerToRawData
	le.PutUint32(sh[36:], 0x40000040)        // Characteristics: INITIALIZED_DATA | MEM_READ
	copy(b[sectionOff:], edata)
	return b
}

// exportSection is the IMAGE_EXPORT_DIRECTORY and its tables and strings,
// for the section at sectionRVA. An export whose address lies inside the
// export directory's range is a forwarder: the address is a string
// "dll.function".
func exportSection() []byte {
	le := binary.LittleEndian
	const (
		dirSize   = 40
		eat       = dirSize      // AddressOfFunctions: one RVA
		names     = eat + 4      // AddressOfNames: one RVA
		ordinals  = names + 4    // AddressOfNameOrdinals: one index
		strings   = ordinals + 2 // the strings follow
		dllName   = "bcryptprimitives.dll\x00"
		funcName  = "ProcessPrng\x00"
		forwarder = "advapi32.SystemFunction036\x00"
	)
	b := make([]byte, strings, strings+len(dllName)+len(funcName)+len(forwarder))
	b = append(b, dllName...)
	b = append(b, funcName...)
	b = append(b, forwarder...)
	rva := func(off int) uint32 { return uint32(sectionRVA + off) }
	le.PutUint32(b[12:], rva(strings))                             // Name
	le.PutUint32(b[16:], 1)                                        // Base: ordinals start at 1
	le.PutUint32(b[20:], 1)                                        // NumberOfFunctions
	le.PutUint32(b[24:], 1)                                        // NumberOfNames
	le.PutUint32(b[28:], rva(eat))                                 // AddressOfFunctions
	le.PutUint32(b[32:], rva(names))                               // AddressOfNames
	le.PutUint32(b[36:], rva(ordinals))                            // AddressOfNameOrdinals
	le.PutUint32(b[eat:], rva(strings+len(dllName)+len(funcName))) // ProcessPrng → the forwarder string
	le.PutUint32(b[names:], rva(strings+len(dllName)))             // "ProcessPrng"
	le.PutUint16(b[ordinals:], 0)                                  // its index in AddressOfFunctions
	return b
}
