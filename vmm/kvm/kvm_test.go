package kvm_test

import (
	"testing"

	"github.com/kvmscope/kvmscope/internal/kvmtest"
	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// TestCapabilities checks what every KVM kvmscope runs on must offer.
func TestCapabilities(t *testing.T) {
	sys := kvmtest.Open(t)
	for _, c := range []kvm.Cap{kvm.CapUserMemory, kvm.CapSetGuestDebug, kvm.CapImmediateExit, kvm.CapIRQChip} {
		if sys.CheckExtension(c) == 0 {
			t.Errorf("KVM lacks %v", c)
		}
	}
	if n, err := sys.VCPUMmapSize(); err != nil || n < 4096 {
		t.Fatalf("VCPUMmapSize = %d, %v", n, err)
	}
}

// TestRegsRoundTrip sets registers on a fresh vCPU and reads them back, and
// reads the VM and vCPU binary stats.
func TestRegsRoundTrip(t *testing.T) {
	sys := kvmtest.Open(t)
	vm, err := sys.CreateVM()
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	v, err := vm.CreateVCPU(0)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var r kvm.Regs
	if err := v.GetRegs(&r); err != nil {
		t.Fatal(err)
	}
	if r.RIP != 0xfff0 {
		t.Errorf("reset RIP = %#x, want 0xfff0", r.RIP)
	}
	r.RAX, r.R15, r.RFLAGS = 0x1122334455667788, 42, 0x202
	if err := v.SetRegs(&r); err != nil {
		t.Fatal(err)
	}
	var back kvm.Regs
	if err := v.GetRegs(&back); err != nil {
		t.Fatal(err)
	}
	if back != r {
		t.Fatalf("regs read back %+v, want %+v", back, r)
	}
	var s kvm.Sregs
	if err := v.GetSregs(&s); err != nil {
		t.Fatal(err)
	}
	if s.CS.Selector != 0xf000 || s.CS.Base != 0xffff0000 {
		t.Errorf("reset CS = %#x base %#x, want f000 base ffff0000", s.CS.Selector, s.CS.Base)
	}
	if sys.CheckExtension(kvm.CapBinaryStatsFD) == 0 {
		return
	}
	st, err := v.StatsFD()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := st.Lookup("exits"); !ok {
		t.Errorf("vcpu stats %q lack \"exits\" (%d descriptors)", st.ID, len(st.Descs))
	}
	buf := make([]uint64, st.Words())
	if err := st.Read(buf); err != nil {
		t.Fatal(err)
	}
}
