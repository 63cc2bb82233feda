package boot

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// The kernel's build tool (arch/x86/boot/tools/build.c) ended every
// bzImage with the CRC-32 of all bytes before it, up to Linux 6.6; 6.7
// dropped it. Checking it catches what no header check can: a kernel
// damaged in the middle of its compressed payload, which otherwise dies in
// the guest's decompressor ("crc error -- System halted") with interrupts
// off, a machine kvmscope can only time out on.
const (
	bzKernelVersionOff = 0x20e // uint16 kernel_version: the version string's offset - 0x200
	crcDroppedMajor    = 6     // the first release without the CRC: 6.7
	crcDroppedMinor    = 7
)

// PE/COFF fields a signing tool (sbsign, pesign) writes after build.c
// computed the CRC: the image checksum and the certificate table's data
// directory entry. They are zero in the unsigned image, so the CRC of a
// signed kernel (Debian's are) is checked with them zeroed.
const (
	peOffsetOff     = 0x3c // uint32 offset of "PE\0\0" in the MS-DOS stub
	peOptHeaderOff  = 24   // optional header after the PE signature and COFF header
	peChecksumOff   = 64   // in the optional header (PE32 and PE32+)
	peCertDirPE32   = 96 + 4*8
	peCertDirPE32p  = 112 + 4*8
	peMagicPE32     = 0x10b
	peMagicPE32Plus = 0x20b
)

// checkBuildCRC checks the CRC that build.c appended, when the kernel is
// one that has it (its version string says before 6.7). Kernels without a
// version string (test images, hand-made ones) are not checked.
func checkBuildCRC(image []byte, h setupHeader) error {
	if !hasBuildCRC(image) {
		return nil
	}
	end := h.setupSize + h.pmSize
	// build.c's CRC is the IEEE one without the final inversion.
	want := ^binary.LittleEndian.Uint32(image[end-4:])
	if crc32.ChecksumIEEE(image[:end-4]) == want {
		return nil
	}
	if unsigned, ok := withoutPESignature(image[:end-4]); ok && crc32.ChecksumIEEE(unsigned) == want {
		return nil
	}
	return fmt.Errorf("corrupt bzImage: the kernel's CRC-32 (%#08x, appended by its build) does not match its contents: "+
		"the file was damaged after it was built", ^want)
}

// hasBuildCRC reports whether the kernel's version string names a release
// before 6.7.
func hasBuildCRC(image []byte) bool {
	p := uint64(binary.LittleEndian.Uint16(image[bzKernelVersionOff:]))
	if p == 0 || p+0x200 >= uint64(len(image)) {
		return false
	}
	v := image[p+0x200:]
	if i := strings.IndexAny(string(v[:min(len(v), 64)]), " \x00"); i > 0 {
		v = v[:i]
	}
	parts := strings.SplitN(string(v), ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil || major < 2 {
		return false
	}
	return major < crcDroppedMajor || major == crcDroppedMajor && minor < crcDroppedMinor
}

// withoutPESignature returns a copy of b with the PE checksum and
// certificate table entry zeroed, as they were before the image was
// signed; ok is false when b has no PE header to undo.
func withoutPESignature(b []byte) (_ []byte, ok bool) {
	le := binary.LittleEndian
	if len(b) < peOffsetOff+4 || string(b[:2]) != "MZ" {
		return nil, false
	}
	opt := uint64(le.Uint32(b[peOffsetOff:])) + peOptHeaderOff
	if opt+peCertDirPE32p+8 > uint64(len(b)) || string(b[opt-peOptHeaderOff:opt-peOptHeaderOff+4]) != "PE\x00\x00" {
		return nil, false
	}
	cert := opt + peCertDirPE32p
	switch le.Uint16(b[opt:]) {
	case peMagicPE32Plus:
	case peMagicPE32:
		cert = opt + peCertDirPE32
	default:
		return nil, false
	}
	c := append([]byte(nil), b...)
	clear(c[opt+peChecksumOff : opt+peChecksumOff+4])
	clear(c[cert : cert+8])
	return c, true
}
