package kvm

import "strconv"

// Cap is a KVM capability number (KVM_CAP_* in linux/kvm.h).
type Cap uint32

// The capabilities kvmscope asks about.
const (
	CapIRQChip             Cap = 0
	CapHLT                 Cap = 1
	CapUserMemory          Cap = 3
	CapSetTSSAddr          Cap = 4
	CapNrVCPUs             Cap = 9
	CapNrMemslots          Cap = 10
	CapPIT                 Cap = 11
	CapMPState             Cap = 14
	CapCoalescedMMIO       Cap = 15
	CapSetGuestDebug       Cap = 23
	CapIRQFD               Cap = 32
	CapPIT2                Cap = 33
	CapIOEventFD           Cap = 36
	CapSetIdentityMapAddr  Cap = 37
	CapVCPUEvents          Cap = 41
	CapDebugRegs           Cap = 50
	CapEnableCap           Cap = 54
	CapMaxVCPUs            Cap = 66
	CapSyncRegs            Cap = 74
	CapReadonlyMem         Cap = 81
	CapGuestDebugHWBPs     Cap = 119
	CapGuestDebugHWWPs     Cap = 120
	CapSplitIRQChip        Cap = 121
	CapIOEventFDAnyLength  Cap = 122
	CapImmediateExit       Cap = 136
	CapX86DisableExits     Cap = 143
	CapCoalescedPIO        Cap = 162
	CapHaltPoll            Cap = 182
	CapX86UserSpaceMSR     Cap = 188
	CapSetGuestDebug2      Cap = 195
	CapSregs2              Cap = 200
	CapBinaryStatsFD       Cap = 203
	CapX86TripleFaultEvent Cap = 218
)

var capNames = map[Cap]string{
	CapIRQChip: "IRQCHIP", CapHLT: "HLT", CapUserMemory: "USER_MEMORY",
	CapSetTSSAddr: "SET_TSS_ADDR", CapNrVCPUs: "NR_VCPUS", CapNrMemslots: "NR_MEMSLOTS",
	CapPIT: "PIT", CapMPState: "MP_STATE", CapCoalescedMMIO: "COALESCED_MMIO",
	CapSetGuestDebug: "SET_GUEST_DEBUG", CapIRQFD: "IRQFD", CapPIT2: "PIT2",
	CapIOEventFD: "IOEVENTFD", CapSetIdentityMapAddr: "SET_IDENTITY_MAP_ADDR",
	CapVCPUEvents: "VCPU_EVENTS", CapDebugRegs: "DEBUGREGS", CapEnableCap: "ENABLE_CAP",
	CapMaxVCPUs: "MAX_VCPUS", CapSyncRegs: "SYNC_REGS", CapReadonlyMem: "READONLY_MEM",
	CapGuestDebugHWBPs: "GUEST_DEBUG_HW_BPS", CapGuestDebugHWWPs: "GUEST_DEBUG_HW_WPS",
	CapSplitIRQChip: "SPLIT_IRQCHIP", CapIOEventFDAnyLength: "IOEVENTFD_ANY_LENGTH",
	CapImmediateExit: "IMMEDIATE_EXIT", CapX86DisableExits: "X86_DISABLE_EXITS",
	CapCoalescedPIO: "COALESCED_PIO", CapHaltPoll: "HALT_POLL",
	CapX86UserSpaceMSR: "X86_USER_SPACE_MSR", CapSetGuestDebug2: "SET_GUEST_DEBUG2",
	CapSregs2: "SREGS2", CapBinaryStatsFD: "BINARY_STATS_FD",
	CapX86TripleFaultEvent: "X86_TRIPLE_FAULT_EVENT",
}

// Caps lists the capabilities named here, in numeric order, for reports.
func Caps() []Cap {
	out := make([]Cap, 0, len(capNames))
	for c := Cap(0); c <= CapX86TripleFaultEvent; c++ {
		if _, ok := capNames[c]; ok {
			out = append(out, c)
		}
	}
	return out
}

func (c Cap) String() string {
	if n, ok := capNames[c]; ok {
		return n
	}
	return "CAP_" + strconv.FormatUint(uint64(c), 10)
}

// Flags of KVM_CAP_X86_DISABLE_EXITS.
const (
	DisableExitsMWAIT  = 1 << 0
	DisableExitsHLT    = 1 << 1
	DisableExitsPAUSE  = 1 << 2
	DisableExitsCSTATE = 1 << 3
)
