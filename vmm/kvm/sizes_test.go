package kvm

import (
	"testing"
	"unsafe"
)

// Sizes and offsets from linux/kvm.h (x86-64), checked against the C
// compiler's sizeof/offsetof. A mismatch means a mirror is wrong.
func TestStructSizes(t *testing.T) {
	for _, c := range []struct {
		name string
		got  uintptr
		want uintptr
	}{
		{"kvm_regs", unsafe.Sizeof(Regs{}), 144},
		{"kvm_fpu", unsafe.Sizeof(FPU{}), 416},
		{"kvm_segment", unsafe.Sizeof(Segment{}), 24},
		{"kvm_dtable", unsafe.Sizeof(DTable{}), 16},
		{"kvm_sregs", unsafe.Sizeof(Sregs{}), 312},
		{"kvm_run", unsafe.Sizeof(Run{}), 2352},
		{"kvm_run.exit_reason", unsafe.Offsetof(Run{}.ExitReason), 8},
		{"kvm_run.cr8", unsafe.Offsetof(Run{}.CR8), 16},
		{"kvm_run union", unsafe.Offsetof(Run{}.exit), 32},
		{"kvm_run.kvm_valid_regs", unsafe.Offsetof(Run{}.ValidRegs), 288},
		{"kvm_run.s", unsafe.Offsetof(Run{}.Sync), 304},
		{"kvm_sync_regs", unsafe.Sizeof(SyncRegs{}), 520},
		{"kvm_run.io", unsafe.Sizeof(ExitIOInfo{}), 16},
		{"kvm_run.mmio", unsafe.Sizeof(ExitMMIOInfo{}), 24},
		{"kvm_run.fail_entry", unsafe.Sizeof(ExitFailEntryInfo{}), 16},
		{"kvm_run.internal", unsafe.Sizeof(ExitInternalInfo{}), 136},
		{"kvm_run.debug", unsafe.Sizeof(ExitDebugInfo{}), 32},
		{"kvm_run.system_event", unsafe.Sizeof(ExitSystemEventInfo{}), 136},
		{"kvm_guest_debug", unsafe.Sizeof(GuestDebug{}), 72},
		{"kvm_debugregs", unsafe.Sizeof(DebugRegs{}), 128},
		{"kvm_vcpu_events", unsafe.Sizeof(VCPUEvents{}), 64},
		{"kvm_vcpu_events.exception_payload", unsafe.Offsetof(VCPUEvents{}.ExceptionPayload), 56},
		{"kvm_userspace_memory_region", unsafe.Sizeof(UserMemoryRegion{}), 32},
		{"kvm_ioeventfd", unsafe.Sizeof(IOEventFD{}), 64},
		{"kvm_enable_cap", unsafe.Sizeof(enableCap{}), 104},
		{"kvm_pit_config", unsafe.Sizeof(pitConfig{}), 64},
		{"kvm_coalesced_mmio_zone", unsafe.Sizeof(CoalescedZone{}), 16},
		{"kvm_coalesced_mmio", unsafe.Sizeof(CoalescedEntry{}), 24},
		{"kvm_coalesced_mmio_ring", unsafe.Sizeof(coalescedRingHeader{}), 8},
		{"kvm_irq_level", unsafe.Sizeof(irqLevel{}), 8},
		{"kvm_irqfd", unsafe.Sizeof(irqfd{}), 32},
		{"kvm_translation", unsafe.Sizeof(Translation{}), 24},
		{"kvm_msrs", unsafe.Sizeof(msrsHeader{}), 8},
		{"kvm_msr_entry", unsafe.Sizeof(MSREntry{}), 16},
		{"kvm_cpuid2", unsafe.Sizeof(cpuid2Header{}), 8},
		{"kvm_cpuid_entry2", unsafe.Sizeof(CPUIDEntry{}), 40},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d bytes, want %d", c.name, c.got, c.want)
		}
	}
}

// Ioctl numbers as linux/kvm.h computes them, for a few of each direction.
func TestIoctlNumbers(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"KVM_RUN", ioctlRun, 0xae80},
		{"KVM_GET_REGS", ioctlGetRegs, 0x8090ae81},
		{"KVM_SET_SREGS", ioctlSetSregs, 0x4138ae84},
		{"KVM_SET_GUEST_DEBUG", ioctlSetGuestDebug, 0x4048ae9b},
		{"KVM_IOEVENTFD", ioctlIOEventFD, 0x4040ae79},
		{"KVM_ENABLE_CAP", ioctlEnableCap, 0x4068aea3},
		{"KVM_SET_USER_MEMORY_REGION", ioctlSetUserMemoryRegion, 0x4020ae46},
		{"KVM_REGISTER_COALESCED_MMIO", ioctlRegisterCoalescedMMIO, 0x4010ae67},
		{"KVM_CREATE_PIT2", ioctlCreatePIT2, 0x4040ae77},
		{"KVM_GET_STATS_FD", ioctlGetStatsFD, 0xaece},
		{"KVM_GET_DEBUGREGS", ioctlGetDebugRegs, 0x8080aea1},
		{"KVM_TRANSLATE", ioctlTranslate, 0xc018ae85},
		{"KVM_GET_VCPU_EVENTS", ioctlGetVCPUEvents, 0x8040ae9f},
		{"KVM_GET_MP_STATE", ioctlGetMPState, 0x8004ae98},
		{"KVM_SET_CPUID2", ioctlSetCPUID2, 0x4008ae90},
		{"KVM_GET_SUPPORTED_CPUID", ioctlGetSupportedCPUID, 0xc008ae05},
		{"KVM_GET_FPU", ioctlGetFPU, 0x81a0ae8c},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}

func TestCoalescedRingCapacity(t *testing.T) {
	page := make([]byte, 4096)
	if n := len(newCoalescedRing(page).entries); n != 170 {
		t.Fatalf("ring holds %d entries, want KVM_COALESCED_MMIO_MAX = 170", n)
	}
}
