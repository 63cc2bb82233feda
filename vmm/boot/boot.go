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
}

// ErrNotSupported is wrapped by the error for an image that is recognised
// but whose boot protocol is not implemented yet, so that a caller can tell
// "wrong file" from "not yet".
var ErrNotSupported = errors.New("not supported yet")

var elfMagic = []byte("\x7fELF")

// Load recognises the image and writes it into ram (guest-physical memory
// starting at GPA 0; len(ram) is the RAM below the 32-bit PCI hole, at most
// 3 GiB). It writes only inside len(ram), even if ram has spare capacity.
func Load(image []byte, ram []byte) (*Image, error) {
	// Cap the slice so that no reslicing below can reach past len(ram)
	// into memory the caller did not hand over.
	ram = ram[:len(ram):len(ram)]
	if err := checkRAMSize(uint64(len(ram))); err != nil {
		return nil, err
	}
	switch {
	case isBzImage(image):
		return nil, bzImageError(image)
	case bytes.HasPrefix(image, elfMagic):
		return loadELF(image, ram)
	default:
		return loadFirmware(image, ram)
	}
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
