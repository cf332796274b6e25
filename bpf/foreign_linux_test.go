//go:build linux

package bpf

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// Programs of another owner, as a CNI's would be, for the coexistence
// tests: loaded from instructions here, not from the agent's objects.
const (
	skbData    = 76 // offsetof(struct __sk_buff, data)
	skbDataEnd = 80
	tcActShot  = 2
	tcxNext    = -1 // TC_ACT_UNSPEC to a legacy tc filter
)

// foreignDropPort is the TCP port the other owner's program drops.
const foreignDropPort = 7100

// foreignDropProgram drops IPv4 TCP segments to foreignDropPort (with a
// 20-byte IP header), as a CNI's policy program would, and passes
// everything else on.
func foreignDropProgram(t *testing.T) *ebpf.Program {
	t.Helper()
	portBE := int32(foreignDropPort>>8 | foreignDropPort&0xff<<8) // as a little-endian load of the port reads it
	return loadForeign(t, asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, skbData, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, skbDataEnd, asm.Word),
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, 14+20+4),
		asm.JGT.Reg(asm.R4, asm.R3, "pass"),
		asm.LoadMem(asm.R5, asm.R2, 12, asm.Half),
		asm.JNE.Imm(asm.R5, 0x0008, "pass"), // ETH_P_IP in network order
		asm.LoadMem(asm.R5, asm.R2, 14+9, asm.Byte),
		asm.JNE.Imm(asm.R5, 6, "pass"),
		asm.LoadMem(asm.R5, asm.R2, 14+20+2, asm.Half),
		asm.JNE.Imm(asm.R5, portBE, "pass"),
		asm.Mov.Imm(asm.R0, tcActShot),
		asm.Return(),
		asm.Mov.Imm(asm.R0, tcxNext).WithSymbol("pass"),
		asm.Return(),
	})
}

// foreignRedirectProgram delivers IPv4 packets to dst straight into the
// peer of the veth peerOf with bpf_redirect_peer, as Cilium and Calico
// eBPF deliver into a pod from a device's ingress: the packet skips the
// node's routing and the egress hooks of the pod's host-side veth. It
// passes everything else on. The MAC header is left as it is: the
// redirect scrubs the packet to PACKET_HOST for the pod's stack.
func foreignRedirectProgram(t *testing.T, dst netip.Addr, peerOf int) *ebpf.Program {
	t.Helper()
	a := dst.As4()
	addrLE := int32(binary.LittleEndian.Uint32(a[:])) // as a 32-bit load of the address reads it
	return loadForeign(t, asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, skbData, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, skbDataEnd, asm.Word),
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, 14+20),
		asm.JGT.Reg(asm.R4, asm.R3, "pass"),
		asm.LoadMem(asm.R5, asm.R2, 12, asm.Half),
		asm.JNE.Imm(asm.R5, 0x0008, "pass"),
		asm.LoadMem(asm.R5, asm.R2, 14+16, asm.Word),
		asm.JNE.Imm32(asm.R5, addrLE, "pass"),
		asm.Mov.Imm(asm.R1, int32(peerOf)),
		asm.Mov.Imm(asm.R2, 0),
		asm.FnRedirectPeer.Call(),
		asm.Return(),
		asm.Mov.Imm(asm.R0, tcxNext).WithSymbol("pass"),
		asm.Return(),
	})
}

func loadForeign(t *testing.T, insns asm.Instructions) *ebpf.Program {
	t.Helper()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "MIT", Instructions: insns})
	if err != nil {
		t.Fatalf("load foreign program: %v", err)
	}
	t.Cleanup(func() { _ = prog.Close() })
	return prog
}
