package debug

import (
	"strings"
	"testing"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

func TestDisassemble(t *testing.T) {
	// mov $0x2a,%al; out %al,$0xf4; hlt; then a byte that is no instruction.
	code := []byte{0xb0, 0x2a, 0xe6, 0xf4, 0xf4, 0x0f, 0xff}
	sym := func(addr uint64) (string, uint64, bool) {
		if addr >= 0x1000 && addr < 0x1010 {
			return "start", 0x1000, true
		}
		return "", 0, false
	}
	lines := Disassemble(code, 0x1000, 64, 10, sym)
	want := []string{"mov $0x2a,%al", "out %al,$0xf4", "hlt"}
	if len(lines) < len(want) {
		t.Fatalf("%d lines: %v", len(lines), lines)
	}
	for i, w := range want {
		if lines[i].Text != w {
			t.Errorf("line %d = %q, want %q", i, lines[i].Text, w)
		}
	}
	if lines[1].Addr != 0x1002 {
		t.Errorf("second instruction at %#x", lines[1].Addr)
	}
	// A relative call's target is the next instruction plus the offset.
	call := Disassemble([]byte{0xe8, 0x07, 0x00, 0x00, 0x00}, 0x10000e, 64, 1, nil)
	if call[0].Text != "callq 0x10001a" && call[0].Text != "call 0x10001a" {
		t.Errorf("call decodes as %q, want a call to 0x10001a", call[0].Text)
	}
	if last := lines[len(lines)-1]; !strings.Contains(last.Text, "(bad)") && last.Err == nil {
		t.Logf("last line %v", last)
	}
}

func TestModeOf(t *testing.T) {
	for _, c := range []struct {
		s    kvm.Sregs
		r    kvm.Regs
		want Mode
	}{
		{kvm.Sregs{}, kvm.Regs{}, ModeReal},
		{kvm.Sregs{CR0: kvm.CR0_PE, CS: kvm.Segment{DB: 1}}, kvm.Regs{}, ModeProtected32},
		{kvm.Sregs{CR0: kvm.CR0_PE}, kvm.Regs{}, ModeProtected16},
		{kvm.Sregs{CR0: kvm.CR0_PE}, kvm.Regs{RFLAGS: kvm.RFLAGS_VM}, ModeVM86},
		{kvm.Sregs{CR0: kvm.CR0_PE | kvm.CR0_PG, EFER: kvm.EFER_LMA, CS: kvm.Segment{L: 1}}, kvm.Regs{}, ModeLong64},
		{kvm.Sregs{CR0: kvm.CR0_PE | kvm.CR0_PG, EFER: kvm.EFER_LMA, CS: kvm.Segment{DB: 1}}, kvm.Regs{}, ModeCompat32},
	} {
		if got := ModeOf(&c.r, &c.s); got != c.want {
			t.Errorf("ModeOf(%+v) = %v, want %v", c.s, got, c.want)
		}
	}
	reset := kvm.Sregs{CS: kvm.Segment{Selector: 0xf000, Base: 0xffff0000}}
	if a := CodeAddress(&kvm.Regs{RIP: 0xfff0}, &reset); a != 0xfffffff0 {
		t.Errorf("reset vector at %#x", a)
	}
}
