package boot

import "fmt"

const (
	fourGiB  = 1 << 32
	pageSize = 4096

	// maxFirmware is how much of the space below 4 GiB a firmware image may
	// take: the 16 MiB that chipsets traditionally decode as BIOS flash,
	// 0xFF000000-0xFFFFFFFF, which stays clear of the IOAPIC and LAPIC
	// windows at 0xFEC00000 and 0xFEE00000 just below it.
	maxFirmware = 16 << 20

	// legacyBIOSWindow is how much of the image's tail is also copied below
	// 1 MiB, so that real-mode code after the far jump from F000:FFF0 finds
	// itself at 0xE0000-0xFFFFF as on a PC.
	legacyBIOSWindow = 128 << 10
	legacyBIOSEnd    = 1 << 20
)

// loadFirmware maps a raw image as QEMU's -bios does: a read-only region
// ending exactly at 4 GiB, where the reset vector's fetch from CS.base
// 0xFFFF0000 + 0xFFF0 lands, and its last 128 KiB (or all of it, if
// smaller) copied into RAM to end at 0xFFFFF, where real-mode code
// addresses it once it reloads CS.
func loadFirmware(image, ram []byte) (*Image, error) {
	n := uint64(len(image))
	switch {
	case n == 0:
		return nil, fmt.Errorf("firmware image is empty")
	case n > maxFirmware:
		return nil, fmt.Errorf("firmware image of %d bytes is larger than the %s below 4 GiB that firmware may use",
			n, sizeString(maxFirmware))
	case uint64(len(ram)) < legacyBIOSEnd:
		return nil, fmt.Errorf("guest RAM of %s is smaller than the 1 MiB that firmware needs for its copy below 1 MiB",
			sizeString(uint64(len(ram))))
	}

	// Pad at the front, so that the image's last byte, which holds the
	// reset vector's code, stays at 0xFFFFFFFF.
	padded := (n + pageSize - 1) &^ (pageSize - 1)
	rom := make([]byte, padded)
	copy(rom[padded-n:], image)

	low := min(n, legacyBIOSWindow)
	copy(ram[legacyBIOSEnd-low:legacyBIOSEnd], image[n-low:])

	return &Image{
		Format: Firmware,
		Entry:  Entry{Mode: "real", Reset: true},
		Regions: []Region{{
			GPA:      fourGiB - padded,
			Data:     rom,
			ReadOnly: true,
			Name:     "firmware",
		}},
	}, nil
}
