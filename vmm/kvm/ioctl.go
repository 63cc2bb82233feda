package kvm

import "unsafe"

// kvmio is the ioctl type byte of KVM (KVMIO in linux/kvm.h).
const kvmio = 0xAE

// Linux ioctl direction bits (asm-generic/ioctl.h).
const (
	iocNone  = 0
	iocWrite = 1
	iocRead  = 2
)

func ioc(dir, nr, size uintptr) uintptr {
	return dir<<30 | size<<16 | kvmio<<8 | nr
}

func io(nr uintptr) uintptr         { return ioc(iocNone, nr, 0) }
func ior(nr, size uintptr) uintptr  { return ioc(iocRead, nr, size) }
func iow(nr, size uintptr) uintptr  { return ioc(iocWrite, nr, size) }
func iowr(nr, size uintptr) uintptr { return ioc(iocRead|iocWrite, nr, size) }
func sizeOf[T any]() uintptr        { var v T; return unsafe.Sizeof(v) }

// System ioctls (on the /dev/kvm fd).
var (
	ioctlGetAPIVersion     = io(0x00)
	ioctlCreateVM          = io(0x01)
	ioctlCheckExtension    = io(0x03)
	ioctlGetVCPUMmapSize   = io(0x04)
	ioctlGetSupportedCPUID = iowr(0x05, sizeOf[cpuid2Header]())
)

// VM ioctls.
var (
	ioctlCreateVCPU              = io(0x41)
	ioctlSetUserMemoryRegion     = iow(0x46, sizeOf[UserMemoryRegion]())
	ioctlSetTSSAddr              = io(0x47)
	ioctlSetIdentityMapAddr      = iow(0x48, sizeOf[uint64]())
	ioctlCreateIRQChip           = io(0x60)
	ioctlIRQLine                 = iow(0x61, sizeOf[irqLevel]())
	ioctlRegisterCoalescedMMIO   = iow(0x67, sizeOf[CoalescedZone]())
	ioctlUnregisterCoalescedMMIO = iow(0x68, sizeOf[CoalescedZone]())
	ioctlIRQFD                   = iow(0x76, sizeOf[irqfd]())
	ioctlCreatePIT2              = iow(0x77, sizeOf[pitConfig]())
	ioctlIOEventFD               = iow(0x79, sizeOf[IOEventFD]())
	ioctlEnableCap               = iow(0xa3, sizeOf[enableCap]())
	ioctlGetStatsFD              = io(0xce)
)

// vCPU ioctls.
var (
	ioctlRun           = io(0x80)
	ioctlGetRegs       = ior(0x81, sizeOf[Regs]())
	ioctlSetRegs       = iow(0x82, sizeOf[Regs]())
	ioctlGetSregs      = ior(0x83, sizeOf[Sregs]())
	ioctlSetSregs      = iow(0x84, sizeOf[Sregs]())
	ioctlTranslate     = iowr(0x85, sizeOf[Translation]())
	ioctlGetFPU        = ior(0x8c, sizeOf[FPU]())
	ioctlSetFPU        = iow(0x8d, sizeOf[FPU]())
	ioctlInterrupt     = iow(0x86, sizeOf[uint32]())
	ioctlGetMSRs       = iowr(0x88, sizeOf[msrsHeader]())
	ioctlSetMSRs       = iow(0x89, sizeOf[msrsHeader]())
	ioctlSetCPUID2     = iow(0x90, sizeOf[cpuid2Header]())
	ioctlGetMPState    = ior(0x98, sizeOf[uint32]())
	ioctlSetMPState    = iow(0x99, sizeOf[uint32]())
	ioctlSetGuestDebug = iow(0x9b, sizeOf[GuestDebug]())
	ioctlGetVCPUEvents = ior(0x9f, sizeOf[VCPUEvents]())
	ioctlSetVCPUEvents = iow(0xa0, sizeOf[VCPUEvents]())
	ioctlGetDebugRegs  = ior(0xa1, sizeOf[DebugRegs]())
	ioctlSetDebugRegs  = iow(0xa2, sizeOf[DebugRegs]())
)
