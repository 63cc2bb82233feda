package boot

import (
	"bytes"
	"errors"
	"fmt"
)

// Format is the kind of image Load recognised.
type Format int

const (
	// Firmware is a raw image started from the reset vector, like QEMU's -bios.
	Firmware Format = iota + 1
	// ELF64 is a static x86-64 ELF executable, entered in long mode.
	ELF64
	// ELF32 is a static i386 ELF executable, entered in flat protected mode.
	ELF32
	// BzImage is a Linux kernel booted by the x86 boot protocol.
	BzImage
	// PVH is an ELF Linux kernel (vmlinux) booted through its PVH entry.
	PVH
	// Multiboot1 is an ELF32 kernel with a multiboot (version 1) header,
	// entered as a multiboot loader does (multiboot.go).
	Multiboot1
)

// String names the format for messages.
func (f Format) String() string {
	switch f {
	case Firmware:
		return "firmware"
	case ELF64:
		return "ELF64"
	case ELF32:
		return "ELF32"
	case BzImage:
		return "Linux bzImage"
	case PVH:
		return "Linux vmlinux (PVH)"
	case Multiboot1:
		return "multiboot ELF32"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Region is guest memory outside RAM that the image needs mapped, e.g. the
// firmware ROM below 4 GiB.
type Region struct {
	GPA      uint64 // page-aligned
	Data     []byte // length a multiple of 4096
	ReadOnly bool
	Name     string // "firmware"
}

// Image is a loaded guest.
type Image struct {
	Format  Format
	Entry   Entry
	Regions []Region // besides RAM
	Linux   *Linux   // what a Linux kernel was handed; nil for other formats
	// Multiboot is what a multiboot kernel was handed; nil for other formats.
	Multiboot *Multiboot
}

// IsLinux reports whether the image is a Linux kernel.
func (img *Image) IsLinux() bool { return img.Linux != nil }

// ErrNotSupported is wrapped by the error for an image that is recognised
// but whose boot protocol is not implemented yet, so that a caller can tell
// "wrong file" from "not yet".
var ErrNotSupported = errors.New("not supported yet")

var elfMagic = []byte("\x7fELF")

// Load recognises the image and writes it into ram (guest-physical memory
// starting at GPA 0; len(ram) is the RAM below the 32-bit PCI hole, at most
// 3 GiB). It writes only inside len(ram), even if ram has spare capacity,
// and nothing at all when it refuses the image. A Linux kernel gets the
// default Options: DefaultCmdline, no initrd, one vCPU, no APICs.
func Load(image []byte, ram []byte) (*Image, error) {
	return LoadWith(image, ram, Options{})
}

// LoadWith is Load with a kernel's inputs. An image that is neither a
// Linux nor a multiboot kernel is refused when opts carry a command line
// or an initrd.
func LoadWith(image []byte, ram []byte, opts Options) (*Image, error) {
	// Cap the slice so that no reslicing below can reach past len(ram)
	// into memory the caller did not hand over.
	ram = ram[:len(ram):len(ram)]
	if err := checkRAMSize(uint64(len(ram))); err != nil {
		return nil, err
	}
	switch {
	case isBzImage(image):
		return loadBzImage(image, ram, opts)
	case bytes.HasPrefix(image, elfMagic):
		return loadELF(image, ram, opts)
	default:
		if opts.linuxOnly() {
			return nil, errLinuxOnly(Firmware)
		}
		return loadFirmware(image, ram)
	}
}

// errLinuxOnly refuses a command line or initrd for an image that is not
// a Linux kernel.
func errLinuxOnly(f Format) error {
	return fmt.Errorf("a kernel command line and an initrd are for Linux kernels (a bzImage, or a vmlinux with a PVH note) and multiboot kernels; this image is %s", f)
}

// maxRAM is the RAM that fits below the 32-bit PCI hole at 3 GiB. More
// would overlap the firmware region and the APIC windows below 4 GiB.
const maxRAM = 3 << 30

// checkRAMSize refuses a RAM slice that does not fit below the PCI hole.
func checkRAMSize(n uint64) error {
	if n > maxRAM {
		return fmt.Errorf("guest RAM of %s is larger than the %s below the PCI hole that Load places images in",
			sizeString(n), sizeString(maxRAM))
	}
	return nil
}

// sizeString prints a memory size the way people say it: "64 MiB",
// "128 KiB", or a plain byte count when it is not a round number.
func sizeString(n uint64) string {
	switch {
	case n != 0 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n != 0 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n != 0 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
