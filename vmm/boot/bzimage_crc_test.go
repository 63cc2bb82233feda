package boot

import (
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"
)

// crcBz is smallBz with a version string and, when crc, the CRC-32 that
// build.c appends; signed then adds a PE header whose checksum and
// certificate entry are set after the CRC was computed, as sbsign does.
func crcBz(version string, crc, signed bool) []byte {
	le := binary.LittleEndian
	img := smallBz().bytes()
	copy(img[0x300:], version+"\x00")
	le.PutUint16(img[bzKernelVersionOff:], 0x100)
	const opt = 0x40 + peOptHeaderOff
	if signed {
		copy(img, "MZ")
		le.PutUint32(img[peOffsetOff:], 0x40)
		copy(img[0x40:], "PE\x00\x00")
		le.PutUint16(img[opt:], peMagicPE32Plus)
		clear(img[opt+peChecksumOff : opt+peChecksumOff+4])
		clear(img[opt+peCertDirPE32p : opt+peCertDirPE32p+8])
	}
	if crc {
		end := len(img)
		le.PutUint32(img[end-4:], ^crc32.ChecksumIEEE(img[:end-4]))
	}
	if signed {
		le.PutUint32(img[opt+peChecksumOff:], 0x7dfe6f)
		le.PutUint32(img[opt+peCertDirPE32p:], uint32(len(img)))
		le.PutUint32(img[opt+peCertDirPE32p+4:], 0x5c0)
	}
	return img
}

func TestBuildCRC(t *testing.T) {
	flipped := func(b []byte) []byte { b[len(b)-0x800] ^= 1; return b }
	for _, tc := range []struct {
		name  string
		image []byte
		bad   bool
	}{
		{"5.10 with its CRC", crcBz("5.10.0-8-amd64 (test)", true, false), false},
		{"6.1 signed", crcBz("6.1.0-57-amd64 (debian)", true, true), false},
		{"6.1 signed, payload damaged", flipped(crcBz("6.1.0-57-amd64 (debian)", true, true)), true},
		{"4.19 damaged", flipped(crcBz("4.19.0", true, false)), true},
		{"6.7 has no CRC", crcBz("6.7.0", false, false), false},
		{"no version string", flipped(smallBz().bytes()), false},
		{"version without a dot", crcBz("linux", false, false), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadWith(tc.image, make([]byte, 8<<20), Options{})
			switch {
			case tc.bad && (err == nil || !strings.Contains(err.Error(), "does not match its contents")):
				t.Errorf("err %v, want the CRC mismatch", err)
			case !tc.bad && err != nil:
				t.Errorf("err %v", err)
			}
		})
	}
}
