package pcapfilter

import (
	"testing"

	"golang.org/x/net/bpf"
)

// FuzzCompile: any expression either fails to compile or gives a program
// the kernel's checks would take (x/net/bpf's VM checks the same: jumps
// within the program, a return at its end), which returns 0 or the snap
// length on any packet.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"tcp port 80", "not icmp", "ip6 and tcp", "(udp or tcp) and not src net fd00::/8",
		"host 10.0.0.1 || portrange 1-1024", "!arp && dst 10.1.2.3", "((((tcp))))"} {
		f.Add(s)
	}
	frame := make([]byte, 80)
	frame[12], frame[13], frame[14], frame[23] = 0x08, 0x00, 0x45, 6
	f.Fuzz(func(t *testing.T, expr string) {
		prog, err := Compile(expr, 96)
		if err != nil {
			return
		}
		insns, ok := bpf.Disassemble(prog)
		if !ok {
			t.Fatalf("%q: program does not disassemble", expr)
		}
		vm, err := bpf.NewVM(insns)
		if err != nil {
			t.Fatalf("%q: invalid program: %v", expr, err)
		}
		n, err := vm.Run(frame)
		if err != nil || (n != 0 && n != 80 && n != 96) {
			t.Fatalf("%q: returned %d, %v", expr, n, err)
		}
	})
}
