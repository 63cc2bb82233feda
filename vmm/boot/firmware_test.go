package boot

import (
	"bytes"
	"testing"
)

// pattern returns n bytes that differ from their neighbours, so that a copy
// to the wrong offset shows.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8 + 1)
	}
	return b
}

// allBytes reports whether every byte of b is v.
func allBytes(b []byte, v byte) bool {
	for _, x := range b {
		if x != v {
			return false
		}
	}
	return true
}

func TestFirmwareMapping(t *testing.T) {
	for _, tc := range []struct {
		name      string
		size      int
		regionGPA uint64
		lowStart  uint64 // where the RAM copy starts
	}{
		{"64K", 64 << 10, 0xffff0000, 0xf0000},
		{"128K", 128 << 10, 0xfffe0000, 0xe0000},
		{"256K", 256 << 10, 0xfffc0000, 0xe0000},
		{"1M", 1 << 20, 0xfff00000, 0xe0000},
		{"3000 bytes", 3000, 0xfffff000, 0x100000 - 3000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			image := pattern(tc.size)
			ram := bytes.Repeat([]byte{0x5a}, 2<<20)
			img, err := Load(image, ram)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if img.Format != Firmware || !img.Entry.Reset || img.Entry.Mode != "real" {
				t.Fatalf("format %v, entry %+v; want firmware, reset, real", img.Format, img.Entry)
			}
			if len(img.Regions) != 1 {
				t.Fatalf("%d regions, want 1", len(img.Regions))
			}
			r := img.Regions[0]
			if r.GPA != tc.regionGPA || !r.ReadOnly || r.Name != "firmware" {
				t.Fatalf("region at %#x read-only %v name %q; want %#x, true, firmware", r.GPA, r.ReadOnly, r.Name, tc.regionGPA)
			}
			if r.GPA%4096 != 0 || len(r.Data)%4096 != 0 || r.GPA+uint64(len(r.Data)) != 1<<32 {
				t.Fatalf("region [%#x+%#x) is not page-granular or does not end at 4 GiB", r.GPA, len(r.Data))
			}
			pad := len(r.Data) - len(image)
			if !bytes.Equal(r.Data[pad:], image) {
				t.Fatalf("region does not end with the image")
			}
			if !bytes.Equal(r.Data[:pad], make([]byte, pad)) {
				t.Fatalf("front padding of %d bytes is not zero", pad)
			}
			// The reset vector: the image's last 16 bytes are at 0xFFFFFFF0.
			if !bytes.Equal(r.Data[len(r.Data)-16:], image[len(image)-16:]) {
				t.Fatalf("reset vector bytes are not the image's last 16")
			}

			low := ram[tc.lowStart:0x100000]
			if !bytes.Equal(low, image[len(image)-len(low):]) {
				t.Fatalf("RAM [%#x-0x100000) is not the image's tail", tc.lowStart)
			}
			if !allBytes(ram[:tc.lowStart], 0x5a) || !allBytes(ram[0x100000:], 0x5a) {
				t.Fatalf("RAM outside [%#x-0x100000) was written", tc.lowStart)
			}

			image[len(image)-1] ^= 0xff
			if r.Data[len(r.Data)-1] == image[len(image)-1] {
				t.Fatalf("region aliases the caller's image")
			}
		})
	}
}
