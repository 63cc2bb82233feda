package kvm

// Regs mirrors struct kvm_regs: the general-purpose registers, RIP and RFLAGS.
type Regs struct {
	RAX, RBX, RCX, RDX uint64
	RSI, RDI, RSP, RBP uint64
	R8, R9, R10, R11   uint64
	R12, R13, R14, R15 uint64
	RIP, RFLAGS        uint64
}

// Segment mirrors struct kvm_segment: a segment register with its hidden
// descriptor cache, which is what the CPU actually uses.
type Segment struct {
	Base     uint64
	Limit    uint32
	Selector uint16
	Type     uint8
	Present  uint8
	DPL      uint8
	DB       uint8
	S        uint8
	L        uint8
	G        uint8
	AVL      uint8
	Unusable uint8
	_        uint8
}

// DTable mirrors struct kvm_dtable: GDTR or IDTR.
type DTable struct {
	Base  uint64
	Limit uint16
	_     [3]uint16
}

// Sregs mirrors struct kvm_sregs: segments, descriptor tables, control
// registers, EFER, the APIC base and the pending-interrupt bitmap.
type Sregs struct {
	CS, DS, ES, FS, GS, SS Segment
	TR, LDT                Segment
	GDT, IDT               DTable
	CR0, CR2, CR3, CR4     uint64
	CR8                    uint64
	EFER                   uint64
	APICBase               uint64
	InterruptBitmap        [4]uint64 // (KVM_NR_INTERRUPTS + 63) / 64
}

// Control-register and EFER bits the boot code and the reports use.
const (
	CR0_PE = 1 << 0
	CR0_MP = 1 << 1
	CR0_ET = 1 << 4
	CR0_NE = 1 << 5
	CR0_WP = 1 << 16
	CR0_PG = 1 << 31

	CR4_PSE = 1 << 4
	CR4_PAE = 1 << 5

	EFER_SCE = 1 << 0
	EFER_LME = 1 << 8
	EFER_LMA = 1 << 10
	EFER_NXE = 1 << 11
)

// RFLAGS bits.
const (
	RFLAGS_CF    = 1 << 0
	RFLAGS_FIXED = 1 << 1 // always set
	RFLAGS_TF    = 1 << 8
	RFLAGS_IF    = 1 << 9
	RFLAGS_DF    = 1 << 10
	RFLAGS_IOPL  = 3 << 12
	RFLAGS_VM    = 1 << 17
)

// FPU mirrors struct kvm_fpu: x87 and SSE state in FXSAVE layout.
type FPU struct {
	FPR        [8][16]uint8
	FCW        uint16
	FSW        uint16
	FTWX       uint8 // abridged tag word, as FXSAVE stores it
	_          uint8
	LastOpcode uint16
	LastIP     uint64
	LastDP     uint64
	XMM        [16][16]uint8
	MXCSR      uint32
	_          uint32
}

// MSRs kvmscope reads or writes.
const (
	MSR_EFER           = 0xc0000080
	MSR_FS_BASE        = 0xc0000100
	MSR_GS_BASE        = 0xc0000101
	MSR_KERNEL_GS_BASE = 0xc0000102
)
