package debug

import (
	"fmt"
	"io"
	"strings"

	"github.com/kvmscope/kvmscope/vmm"
	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// WriteFault prints what a person needs to see after a guest fault: why
// it stopped, the registers, segments, control registers and EFER, and
// the instructions at RIP.
func WriteFault(w io.Writer, s *vmm.Stop, mem PhysReader, sym Symbolizer) {
	fmt.Fprintf(w, "kvmscope: vcpu %d: %s\n", s.VCPU, s.Detail)
	f := s.Fault
	if f == nil {
		return
	}
	if len(f.Info) > 0 {
		var words []string
		for _, x := range f.Info {
			words = append(words, fmt.Sprintf("%#x", x))
		}
		fmt.Fprintf(w, "  exit data: %s\n", strings.Join(words, " "))
	}
	state := &f.Now
	if f.ResetByKVM {
		if f.LastExit != nil {
			fmt.Fprintln(w, "  (AMD host: KVM reset the vCPU before reporting the shutdown; this is the state at its last exit to user space)")
			state = f.LastExit
		} else {
			fmt.Fprintln(w, "  (AMD host: KVM reset the vCPU before reporting the shutdown and no earlier state was recorded; this is the reset state)")
		}
	}
	WriteCPUState(w, &state.Regs, &state.Sregs)
	WriteCode(w, mem, &state.Regs, &state.Sregs, 6, sym)
}

// WriteCPUState prints registers, segments, control registers and EFER.
func WriteCPUState(w io.Writer, r *kvm.Regs, s *kvm.Sregs) {
	fmt.Fprintf(w, "  mode: %v\n", ModeOf(r, s))
	fmt.Fprintf(w, "  rax %016x rbx %016x rcx %016x rdx %016x\n", r.RAX, r.RBX, r.RCX, r.RDX)
	fmt.Fprintf(w, "  rsi %016x rdi %016x rsp %016x rbp %016x\n", r.RSI, r.RDI, r.RSP, r.RBP)
	fmt.Fprintf(w, "  r8  %016x r9  %016x r10 %016x r11 %016x\n", r.R8, r.R9, r.R10, r.R11)
	fmt.Fprintf(w, "  r12 %016x r13 %016x r14 %016x r15 %016x\n", r.R12, r.R13, r.R14, r.R15)
	fmt.Fprintf(w, "  rip %016x rflags %08x [%s]\n", r.RIP, r.RFLAGS, FlagsString(r.RFLAGS))
	for _, seg := range []struct {
		name string
		s    *kvm.Segment
	}{{"cs", &s.CS}, {"ds", &s.DS}, {"es", &s.ES}, {"fs", &s.FS}, {"gs", &s.GS}, {"ss", &s.SS}, {"tr", &s.TR}, {"ldt", &s.LDT}} {
		fmt.Fprintf(w, "  %-3s %04x base %016x limit %08x type %2d%s\n", seg.name, seg.s.Selector, seg.s.Base, seg.s.Limit, seg.s.Type, segAttrs(seg.s))
	}
	fmt.Fprintf(w, "  gdt base %016x limit %04x  idt base %016x limit %04x\n", s.GDT.Base, s.GDT.Limit, s.IDT.Base, s.IDT.Limit)
	fmt.Fprintf(w, "  cr0 %016x cr2 %016x cr3 %016x cr4 %016x cr8 %x\n", s.CR0, s.CR2, s.CR3, s.CR4, s.CR8)
	fmt.Fprintf(w, "  efer %x [%s] apic_base %x\n", s.EFER, eferString(s.EFER), s.APICBase)
}

// WriteCode disassembles n instructions at RIP.
func WriteCode(w io.Writer, mem PhysReader, r *kvm.Regs, s *kvm.Sregs, n int, sym Symbolizer) {
	mode := ModeOf(r, s)
	addr := CodeAddress(r, s)
	code := make([]byte, 16*n)
	got, err := ReadLinear(mem, s, addr, code)
	if got == 0 {
		fmt.Fprintf(w, "  code at %#x: unreadable: %v\n", addr, err)
		return
	}
	fmt.Fprintf(w, "  code at %#x (%d-bit):\n", addr, mode.Bits())
	for i, l := range Disassemble(code[:got], addr, mode.Bits(), n, sym) {
		mark := "   "
		if i == 0 {
			mark = "=> "
		}
		fmt.Fprintf(w, "  %s%s\n", mark, l)
	}
}

// FlagsString names the set RFLAGS bits, as gdb's eflags register does.
func FlagsString(f uint64) string {
	var out []string
	for _, b := range []struct {
		bit  uint64
		name string
	}{{0, "CF"}, {2, "PF"}, {4, "AF"}, {6, "ZF"}, {7, "SF"}, {8, "TF"}, {9, "IF"}, {10, "DF"}, {11, "OF"}, {14, "NT"}, {16, "RF"}, {17, "VM"}, {18, "AC"}, {19, "VIF"}, {20, "VIP"}, {21, "ID"}} {
		if f&(1<<b.bit) != 0 {
			out = append(out, b.name)
		}
	}
	if iopl := f >> 12 & 3; iopl != 0 {
		out = append(out, fmt.Sprintf("IOPL=%d", iopl))
	}
	return strings.Join(out, " ")
}

func eferString(e uint64) string {
	var out []string
	for _, b := range []struct {
		bit  uint64
		name string
	}{{kvm.EFER_SCE, "SCE"}, {kvm.EFER_LME, "LME"}, {kvm.EFER_LMA, "LMA"}, {kvm.EFER_NXE, "NXE"}} {
		if e&b.bit != 0 {
			out = append(out, b.name)
		}
	}
	return strings.Join(out, " ")
}

func segAttrs(s *kvm.Segment) string {
	var b strings.Builder
	for _, a := range []struct {
		on   uint8
		name string
	}{{s.Present, " P"}, {s.S, " S"}, {s.DB, " DB"}, {s.L, " L"}, {s.G, " G"}, {s.Unusable, " unusable"}} {
		if a.on != 0 {
			b.WriteString(a.name)
		}
	}
	fmt.Fprintf(&b, " dpl %d", s.DPL)
	return b.String()
}
