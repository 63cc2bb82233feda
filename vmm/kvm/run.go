package kvm

// ExitReason is kvm_run.exit_reason (KVM_EXIT_* in linux/kvm.h).
type ExitReason uint32

//go:generate stringer -type=ExitReason -trimprefix=Exit
const (
	ExitUnknown       ExitReason = 0
	ExitException     ExitReason = 1
	ExitIO            ExitReason = 2
	ExitHypercall     ExitReason = 3
	ExitDebug         ExitReason = 4
	ExitHLT           ExitReason = 5
	ExitMMIO          ExitReason = 6
	ExitIRQWindowOpen ExitReason = 7
	ExitShutdown      ExitReason = 8
	ExitFailEntry     ExitReason = 9
	ExitIntr          ExitReason = 10
	ExitSetTPR        ExitReason = 11
	ExitTPRAccess     ExitReason = 12
	ExitNMI           ExitReason = 16
	ExitInternalError ExitReason = 17
	ExitSystemEvent   ExitReason = 24
	ExitIOAPICEOI     ExitReason = 26
	ExitHyperV        ExitReason = 27
	ExitX86RDMSR      ExitReason = 29
	ExitX86WRMSR      ExitReason = 30
	ExitDirtyRingFull ExitReason = 31
	ExitAPResetHold   ExitReason = 32
	ExitX86BusLock    ExitReason = 33
	ExitNotify        ExitReason = 37
	ExitMemoryFault   ExitReason = 39

	// NumExitReasons bounds the reasons above, for fixed-size tables.
	NumExitReasons = 40
)

// Run mirrors struct kvm_run: the page KVM shares with user space to
// report why KVM_RUN returned. The exit-specific union is reached through
// the typed accessors in run_unsafe.go.
type Run struct {
	// flags holds request_interrupt_window (byte 0) and immediate_exit
	// (byte 1) as one word so that another thread can set immediate_exit
	// with an atomic OR without touching its neighbour.
	flags                      uint32
	_                          uint32
	ExitReason                 ExitReason
	ReadyForInterruptInjection uint8
	IFFlag                     uint8
	Flags                      uint16
	CR8                        uint64
	APICBase                   uint64
	exit                       [256]byte
	ValidRegs                  uint64
	DirtyRegs                  uint64
	Sync                       SyncRegs
	_                          [2048 - 520]byte
}

// Sync-register sets (KVM_SYNC_X86_*): with these in ValidRegs, KVM copies
// the vCPU's state into Run.Sync on every exit, at no extra ioctl.
const (
	SyncRegsGPR    = 1 << 0
	SyncRegsSregs  = 1 << 1
	SyncRegsEvents = 1 << 2
)

// SyncRegs mirrors struct kvm_sync_regs (x86).
type SyncRegs struct {
	Regs   Regs
	Sregs  Sregs
	Events VCPUEvents
}

// Port I/O direction (kvm_run.io.direction).
const (
	IOIn  = 0
	IOOut = 1
)

// ExitIOInfo mirrors kvm_run.io.
type ExitIOInfo struct {
	Direction  uint8
	Size       uint8
	Port       uint16
	Count      uint32
	DataOffset uint64 // from the start of kvm_run
}

// ExitMMIOInfo mirrors kvm_run.mmio.
type ExitMMIOInfo struct {
	PhysAddr uint64
	Data     [8]byte
	Len      uint32
	IsWrite  uint8
	_        [3]uint8
}

// ExitFailEntryInfo mirrors kvm_run.fail_entry.
type ExitFailEntryInfo struct {
	HardwareEntryFailureReason uint64
	CPU                        uint32
	_                          uint32
}

// Internal-error sub-reasons (KVM_INTERNAL_ERROR_*).
const (
	InternalErrorEmulation            = 1
	InternalErrorSimulEx              = 2
	InternalErrorDeliveryEv           = 3
	InternalErrorUnexpectedExitReason = 4
)

// ExitInternalInfo mirrors kvm_run.internal.
type ExitInternalInfo struct {
	Suberror uint32
	NData    uint32
	Data     [16]uint64
}

// ExitDebugInfo mirrors kvm_run.debug.arch (x86).
type ExitDebugInfo struct {
	Exception uint32
	_         uint32
	PC        uint64
	DR6       uint64
	DR7       uint64
}

// System-event types (KVM_SYSTEM_EVENT_*).
const (
	SystemEventShutdown = 1
	SystemEventReset    = 2
	SystemEventCrash    = 3
)

// ExitSystemEventInfo mirrors kvm_run.system_event.
type ExitSystemEventInfo struct {
	Type  uint32
	NData uint32
	Data  [16]uint64
}
