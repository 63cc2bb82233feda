package boot

import (
	"bytes"
	"encoding/binary"
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
	// The Linux seeds are as small as they can be: inputs that find new
	// coverage are minimized before the fuzzer goes on, which takes long
	// for large ones.
	f.Add(tinyBz().bytes())
	f.Add(with_(tinyBz(), func(b *testBz) { b.xloadflags = 0 }).bytes())
	f.Add(tinyPVH(0x100010))
	f.Add(tinyPVH(0))
	f.Add(fuzzMultiboot())

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
		case BzImage, PVH:
			checkLinuxImage(t, img, ram)
		case Multiboot1:
			checkMultibootImage(t, img, ram)
		default:
			t.Fatalf("Load returned format %v", img.Format)
		}
	})
}

// tinyBz is the smallest bzImage the loader takes: one setup sector, and
// 512 bytes of kernel of which 256 are the payload's xz header and footer.
func tinyBz() testBz {
	return with_(smallBz(), func(b *testBz) { b.sects, b.pmSize, b.payloadLen, b.initSize = 1, 0x200, 0x100, 0x1000 })
}

// tinyPVH is pvhELF with 256 bytes of code.
func tinyPVH(entry uint64) []byte {
	e := pvhELF(entry, 8)
	e.segs[0].data = e.segs[0].data[:0x100]
	return e.bytes()
}

// checkLinuxImage checks what Load did for a Linux kernel it accepted: the
// entry's registers and GDT, the memory map, and the boot protocol's
// pointer to its structures.
func checkLinuxImage(t *testing.T, img *Image, ram []byte) {
	t.Helper()
	if img.Entry.Reset || len(img.Regions) != 0 || img.Linux == nil {
		t.Fatalf("Linux entry %+v with %d regions, info %v", img.Entry, len(img.Regions), img.Linux)
	}
	if img.Entry.RIP < kernelLoadAddr || img.Entry.RIP >= uint64(len(ram)) {
		t.Fatalf("entry %#x outside the kernel", img.Entry.RIP)
	}
	regs, sregs := resetState()
	img.Entry.Setup(&regs, &sregs)
	checkSegmentRules(t, sregs)
	checkGDTMatchesSregs(t, ram, sregs, img.Entry.Mode == "long")
	switch img.Format {
	case BzImage:
		if regs.RSI != zeroPageAddr || ram[zeroPageAddr+bzLoaderTypeOff] != 0xff {
			t.Fatalf("RSI %#x, want the zero page", regs.RSI)
		}
	case PVH:
		if regs.RBX != pvhInfoAddr || binary.LittleEndian.Uint32(ram[pvhInfoAddr:]) != hvmStartMagic {
			t.Fatalf("RBX %#x, want the start info", regs.RBX)
		}
	}
	if img.Linux.KernelEnd > uint64(len(ram)) || cString(ram[cmdlineAddr:]) != DefaultCmdline {
		t.Fatalf("kernel end %#x, command line %q", img.Linux.KernelEnd, cString(ram[cmdlineAddr:]))
	}
	checkE820(t, img.Linux.E820, uint64(len(ram)), 0)
}

// FuzzInitrd: whatever the bytes, checkInitrd answers without panicking,
// and accepts the well-formed archives it is seeded with.
func FuzzInitrd(f *testing.F) {
	cpio := cpioArchive("init", []byte("#!/bin/sh\n"))
	f.Add(cpio)
	f.Add(gzipped(cpio))
	f.Add(append(append([]byte{}, cpio...), gzipped(cpio)...))
	f.Add(fakeXZ(64))
	f.Fuzz(func(t *testing.T, initrd []byte) {
		checkInitrd(initrd)
	})
}

// The ELF and Linux seeds must load in the fuzzer's RAM, or the fuzzer
// would only ever mutate refused images.
func TestFuzzSeedsLoad(t *testing.T) {
	for _, image := range [][]byte{fuzzSeed(sample64()), fuzzSeed(sample32()), tinyBz().bytes(), tinyPVH(0x100010), fuzzMultiboot()} {
		ram := make([]byte, fuzzRAMSize)
		img, err := Load(image, ram)
		if err != nil {
			t.Fatalf("seed does not load: %v", err)
		}
		if img.Linux != nil {
			checkLinuxImage(t, img, ram)
		}
		if img.Multiboot != nil {
			checkMultibootImage(t, img, ram)
		}
	}
}

// checkMultibootImage checks what Load did for a multiboot kernel it
// accepted: the entry's registers and GDT, and the information structure
// inside RAM with its magic in EAX.
func checkMultibootImage(t *testing.T, img *Image, ram []byte) {
	t.Helper()
	mb := img.Multiboot
	if img.Entry.Reset || len(img.Regions) != 0 || mb == nil {
		t.Fatalf("multiboot entry %+v with %d regions, info %v", img.Entry, len(img.Regions), mb)
	}
	regs, sregs := resetState()
	img.Entry.Setup(&regs, &sregs)
	checkSegmentRules(t, sregs)
	checkGDTMatchesSregs(t, ram, sregs, false)
	if regs.RAX != multibootBootMagic || regs.RBX != mb.InfoAddr || mb.InfoAddr+mbAreaLen > uint64(len(ram)) || mb.InfoAddr%pageSize != 0 || regs.RIP != mb.InfoAddr+mbStubOff {
		t.Fatalf("EAX %#x EBX %#x: want the magic and the information inside RAM", regs.RAX, regs.RBX)
	}
	if flags := binary.LittleEndian.Uint32(ram[mb.InfoAddr:]); flags&(mbInfoMem|mbInfoMmap) != mbInfoMem|mbInfoMmap {
		t.Fatalf("information flags %#x", flags)
	}
}
