package boot

import (
	"bytes"
	"testing"
)

// fuzzRAMSize is small, so that each run is cheap, yet holds the legacy
// BIOS window (1 MiB) and an ELF at 1 MiB.
const fuzzRAMSize, fuzzGuard = 2 << 20, 4096

var (
	fuzzZeros      = make([]byte, fuzzRAMSize)
	fuzzGuardBytes = bytes.Repeat([]byte{0xcc}, fuzzGuard)
)

// fuzzSeed moves an image's data segment to 1.5 MiB so it fits fuzzRAMSize.
func fuzzSeed(e testELF) []byte {
	return with(e, func(e *testELF) { e.segs[1].paddr = 0x180000 }).bytes()
}

// FuzzLoad feeds Load arbitrary images with a small RAM. Whatever the input,
// Load must not panic, must not write past len(ram), must leave RAM alone
// when it refuses an image, and what it accepts must be consistent.
func FuzzLoad(f *testing.F) {
	f.Add(fuzzSeed(sample64()))
	f.Add(fuzzSeed(sample32()))
	f.Add(pattern(3000))
	f.Add(bzImageHeader(0x020f))
	f.Add([]byte("\x7fELF"))

	f.Fuzz(func(t *testing.T, image []byte) {
		buf := make([]byte, fuzzRAMSize+fuzzGuard)
		copy(buf[fuzzRAMSize:], fuzzGuardBytes)
		ram := buf[:fuzzRAMSize]

		img, err := Load(image, ram)
		// bytes.Equal rather than a loop: it is not instrumented, which
		// keeps the fuzzer fast.
		if !bytes.Equal(buf[fuzzRAMSize:], fuzzGuardBytes) {
			t.Fatalf("Load wrote past len(ram)")
		}
		if err != nil {
			if !bytes.Equal(ram, fuzzZeros) {
				t.Fatalf("Load refused the image (%v) but wrote into RAM", err)
			}
			return
		}

		switch img.Format {
		case Firmware:
			if !img.Entry.Reset || len(img.Regions) != 1 {
				t.Fatalf("firmware entry %+v with %d regions", img.Entry, len(img.Regions))
			}
			r := img.Regions[0]
			if r.GPA%4096 != 0 || len(r.Data)%4096 != 0 || r.GPA+uint64(len(r.Data)) != 1<<32 || len(r.Data) > maxFirmware {
				t.Fatalf("firmware region [%#x+%#x) is misplaced", r.GPA, len(r.Data))
			}
		case ELF64, ELF32:
			if img.Entry.Reset || len(img.Regions) != 0 {
				t.Fatalf("ELF entry %+v with %d regions", img.Entry, len(img.Regions))
			}
			if img.Entry.RIP >= fuzzRAMSize {
				t.Fatalf("entry %#x outside RAM", img.Entry.RIP)
			}
			regs, sregs := resetState()
			img.Entry.Setup(&regs, &sregs)
			checkSegmentRules(t, sregs)
			checkGDTMatchesSregs(t, ram, sregs, img.Format == ELF64)
		default:
			t.Fatalf("Load returned format %v", img.Format)
		}
	})
}

// The ELF seeds must load in the fuzzer's RAM, or the fuzzer would only
// ever mutate refused images.
func TestFuzzSeedsLoad(t *testing.T) {
	for _, e := range []testELF{sample64(), sample32()} {
		if _, err := Load(fuzzSeed(e), make([]byte, fuzzRAMSize)); err != nil {
			t.Fatalf("seed does not load: %v", err)
		}
	}
}
