package boot

import (
	"encoding/binary"
	"fmt"
)

// Offsets in the Linux boot protocol's setup header
// (Documentation/arch/x86/boot.rst).
const (
	bzBootFlagOff = 0x1fe // uint16 0xAA55
	bzHeaderOff   = 0x202 // "HdrS"
	bzVersionOff  = 0x206 // uint16 protocol version, major in the high byte
	bzMinLen      = bzVersionOff + 2
)

// isBzImage reports whether image carries a Linux setup header. Both the
// boot flag and the "HdrS" magic must be present: either alone is too weak
// a signature to take a firmware image for a kernel.
func isBzImage(image []byte) bool {
	if len(image) < bzMinLen {
		return false
	}
	return binary.LittleEndian.Uint16(image[bzBootFlagOff:]) == 0xaa55 &&
		string(image[bzHeaderOff:bzHeaderOff+4]) == "HdrS"
}

// bzImageError says that the image is a kernel we recognise but cannot boot
// yet, naming the protocol version so the message is useful once we can.
func bzImageError(image []byte) error {
	v := binary.LittleEndian.Uint16(image[bzVersionOff:])
	return fmt.Errorf("Linux bzImage (boot protocol %d.%02d): %w", v>>8, v&0xff, ErrNotSupported)
}
