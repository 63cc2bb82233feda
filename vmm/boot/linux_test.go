package boot

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"strings"
	"testing"

	"github.com/kvmscope/kvmscope/internal/kvmbox"
)

// testBz describes a small bzImage: a setup header, then protected-mode
// code holding an xz-looking payload (header and footer intact, no real
// data) at payload offset 0x100.
type testBz struct {
	version     uint16
	sects       byte
	loadflags   byte
	xloadflags  uint16
	pmSize      int // a multiple of 16
	payloadLen  int
	initSize    uint32
	prefAddr    uint64
	align       uint32
	cmdlineSize uint32
	initrdMax   uint32
}

// smallBz fits a few MiB of RAM: it runs where it is loaded, at 1 MiB.
func smallBz() testBz {
	return testBz{version: 0x020f, sects: 4, loadflags: loadflagLoadedHigh, xloadflags: xlfKernel64,
		pmSize: 0x2000, payloadLen: 0x1000, initSize: 0x10000, prefAddr: 0x100000, align: 0x1000,
		cmdlineSize: 2047, initrdMax: 0x7fffffff}
}

const testPayloadOff = 0x100

func (b testBz) setupSize() int { return (int(b.sects) + 1) * 512 }

func (b testBz) bytes() []byte {
	le := binary.LittleEndian
	img := pattern(b.setupSize() + b.pmSize)
	h := img[:b.setupSize()]
	clear(h[bzSetupSectsOff:bzHeaderEnd])
	h[bzSetupSectsOff] = b.sects
	le.PutUint32(h[bzSyssizeOff:], uint32(b.pmSize/16))
	le.PutUint16(h[bzBootFlagOff:], 0xaa55)
	h[bzJumpOff], h[bzJumpOff+1] = 0xeb, bzHeaderEnd-bzJumpOff-2
	copy(h[bzHeaderOff:], "HdrS")
	le.PutUint16(h[bzVersionOff:], b.version)
	h[bzLoadflagsOff] = b.loadflags
	le.PutUint32(h[bzCode32Off:], 0x100000)
	le.PutUint32(h[bzInitrdMaxOff:], b.initrdMax)
	le.PutUint32(h[bzAlignOff:], b.align)
	h[bzRelocOff] = 1
	le.PutUint16(h[bzXloadflagsOff:], b.xloadflags)
	le.PutUint32(h[bzCmdlineSizeOff:], b.cmdlineSize)
	le.PutUint32(h[bzPayloadOff:], testPayloadOff)
	le.PutUint32(h[bzPayloadLenOff:], uint32(b.payloadLen))
	le.PutUint64(h[bzPrefAddrOff:], b.prefAddr)
	le.PutUint32(h[bzInitSizeOff:], b.initSize)
	if b.payloadLen >= 28 && testPayloadOff+b.payloadLen <= b.pmSize {
		copy(img[b.setupSize()+testPayloadOff:], fakeXZ(b.payloadLen))
	}
	return img
}

// fakeXZ is an xz stream's header and footer around filler, with the
// uncompressed size appended as the kernel build does.
func fakeXZ(n int) []byte {
	le := binary.LittleEndian
	p := pattern(n)
	copy(p, "\xfd7zXZ\x00\x00\x01")
	le.PutUint32(p[8:], crc32.ChecksumIEEE(p[6:8]))
	foot := p[n-16 : n-4]
	le.PutUint32(foot[4:], 3) // backward size
	foot[8], foot[9] = 0x00, 0x01
	copy(foot[10:], "YZ")
	le.PutUint32(foot, crc32.ChecksumIEEE(foot[4:10]))
	le.PutUint32(p[n-4:], 0x1234567)
	return p
}

// cpioArchive is a newc archive with one file and the trailer.
func cpioArchive(name string, data []byte) []byte {
	var b []byte
	add := func(name string, mode int, data []byte) {
		b = fmt.Appendf(b, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
			1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
		b = append(append(b, name...), 0)
		b = append(b, make([]byte, (4-len(b)%4)%4)...)
		b = append(b, data...)
		b = append(b, make([]byte, (4-len(b)%4)%4)...)
	}
	add(name, 0o100755, data)
	add("TRAILER!!!", 0, nil)
	return b
}

// misaligned puts b after a, with zeros between, so that b starts one
// byte past a multiple of four.
func misaligned(a, b []byte) []byte {
	out := append([]byte{}, a...)
	for len(out)%4 != 1 {
		out = append(out, 0)
	}
	return append(out, b...)
}

func gzipped(b []byte) []byte {
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(b)
	w.Close()
	return z.Bytes()
}

// pvhELF is a vmlinux-like ELF64: code at 1 MiB linked in the top 2 GiB,
// and a note segment with a "Linux" note and, unless entry is 0, Xen's PVH
// entry note.
func pvhELF(entry uint64, descLen int) testELF {
	var notes []byte
	note := func(owner string, typ uint32, desc []byte) {
		notes = binary.LittleEndian.AppendUint32(notes, uint32(len(owner)+1))
		notes = binary.LittleEndian.AppendUint32(notes, uint32(len(desc)))
		notes = binary.LittleEndian.AppendUint32(notes, typ)
		notes = append(append(notes, owner...), 0)
		notes = append(notes, make([]byte, (4-len(notes)%4)%4)...)
		notes = append(notes, desc...)
		notes = append(notes, make([]byte, (4-len(notes)%4)%4)...)
	}
	note("Linux", 0x100, []byte("OPEN"))
	if entry != 0 {
		d := binary.LittleEndian.AppendUint64(nil, entry)
		note("Xen", xenElfnotePhys32Entry, d[:descLen])
	}
	return testELF{
		entry: 0x100000,
		segs: []testSeg{
			{paddr: 0x100000, vaddr: 0xffffffff81000000, data: pattern(0x3000), memsz: 0x5000},
			{typ: elf.PT_NOTE, paddr: 0x103000, data: notes},
		},
	}
}

func TestBzImageLoad(t *testing.T) {
	le := binary.LittleEndian
	for _, tc := range []struct {
		name    string
		bz      testBz
		mode    string
		rip     uint64
		apic    bool
		initrd  []byte
		cmdline string
	}{
		{"64-bit entry", smallBz(), "long", 0x100200, false, nil, ""},
		{"32-bit entry", with_(smallBz(), func(b *testBz) { b.xloadflags = 0 }), "protected", 0x100000, false, nil, ""},
		{"protocol 2.10", with_(smallBz(), func(b *testBz) { b.version = 0x020a }), "protected", 0x100000, false, nil, ""},
		{"initrd and APICs", smallBz(), "long", 0x100200, true, cpioArchive("init", []byte("#!/bin/sh\n")), "console=ttyS0 quiet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ram := bytes.Repeat([]byte{0xaa}, 8<<20)
			image := tc.bz.bytes()
			img, err := LoadWith(image, ram, Options{Cmdline: tc.cmdline, Initrd: tc.initrd, CPUs: 3, APIC: tc.apic})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if img.Format != BzImage || img.Entry.Mode != tc.mode || img.Entry.RIP != tc.rip || img.Entry.RSI != zeroPageAddr {
				t.Fatalf("format %v mode %q RIP %#x RSI %#x", img.Format, img.Entry.Mode, img.Entry.RIP, img.Entry.RSI)
			}
			if img.Entry.NoLocalAPIC == tc.apic {
				t.Errorf("NoLocalAPIC %v with APIC %v", img.Entry.NoLocalAPIC, tc.apic)
			}
			regs, sregs := resetState()
			img.Entry.Setup(&regs, &sregs)
			if regs.RSI != zeroPageAddr || sregs.CS.Selector != 0x10 || sregs.DS.Selector != 0x18 || sregs.SS.Selector != 0x18 {
				t.Errorf("RSI %#x CS %#x DS %#x SS %#x, want the zero page, __BOOT_CS 0x10, __BOOT_DS 0x18", regs.RSI, sregs.CS.Selector, sregs.DS.Selector, sregs.SS.Selector)
			}
			checkSegmentRules(t, sregs)
			checkGDTMatchesSregs(t, ram, sregs, tc.mode == "long")

			setup := tc.bz.setupSize()
			if !bytes.Equal(ram[kernelLoadAddr:kernelLoadAddr+tc.bz.pmSize], image[setup:]) {
				t.Errorf("protected-mode kernel not at 1 MiB")
			}
			zp := ram[zeroPageAddr : zeroPageAddr+pageSize]
			for _, off := range []int{bzSetupSectsOff, bzSyssizeOff, bzVersionOff, bzXloadflagsOff, bzInitSizeOff, bzPrefAddrOff} {
				if zp[off] != image[off] {
					t.Errorf("zero page byte %#x is %#x, the header's is %#x", off, zp[off], image[off])
				}
			}
			// Before the header only acpi_rsdp_addr and e820_entries are
			// set; after the e820 table, nothing.
			before := bytes.Clone(zp[:bzSetupSectsOff])
			clear(before[zpACPIRSDPOff : zpACPIRSDPOff+8])
			before[zpE820EntriesOff] = 0
			if !allBytes(before, 0) || !allBytes(zp[zpE820TableOff+len(img.Linux.E820)*e820EntrySize:], 0) {
				t.Errorf("zero page has stray bytes")
			}
			if zp[bzLoaderTypeOff] != 0xff || zp[bzLoadflagsOff]&loadflagCanUseHeap == 0 {
				t.Errorf("type_of_loader %#x loadflags %#x", zp[bzLoaderTypeOff], zp[bzLoadflagsOff])
			}
			wantCmdline := tc.cmdline
			if wantCmdline == "" {
				wantCmdline = DefaultCmdline
			}
			if p := le.Uint32(zp[bzCmdlinePtrOff:]); p != cmdlineAddr || cString(ram[p:]) != wantCmdline || img.Linux.Cmdline != wantCmdline {
				t.Errorf("command line at %#x is %q, want %q at %#x", p, cString(ram[p:]), wantCmdline, cmdlineAddr)
			}
			rdAddr, rdSize := le.Uint32(zp[bzRamdiskOff:]), le.Uint32(zp[bzRamdiskSizeOff:])
			switch {
			case tc.initrd == nil && (rdAddr != 0 || rdSize != 0):
				t.Errorf("ramdisk %#x+%#x without an initrd", rdAddr, rdSize)
			case tc.initrd != nil:
				if rdSize != uint32(len(tc.initrd)) || rdAddr%pageSize != 0 || uint64(rdAddr) < img.Linux.KernelEnd ||
					!bytes.Equal(ram[rdAddr:rdAddr+rdSize], tc.initrd) || uint64(rdAddr+rdSize) > uint64(len(ram)) ||
					uint64(len(ram))-uint64(rdAddr+rdSize) >= 2*pageSize {
					t.Errorf("ramdisk at %#x+%#x, want %d bytes page-aligned at the top of RAM", rdAddr, rdSize, len(tc.initrd))
				}
			}
			checkE820(t, img.Linux.E820, uint64(len(ram)), 0)
			n := int(zp[zpE820EntriesOff])
			if n != len(img.Linux.E820) {
				t.Fatalf("zero page has %d e820 entries, Linux.E820 %d", n, len(img.Linux.E820))
			}
			for i, e := range img.Linux.E820 {
				b := zp[zpE820TableOff+i*e820EntrySize:]
				if le.Uint64(b) != e.Addr || le.Uint64(b[8:]) != e.Size || le.Uint32(b[16:]) != e.Type {
					t.Errorf("zero page e820[%d] differs from %+v", i, e)
				}
			}
			rsdp := le.Uint64(zp[zpACPIRSDPOff:])
			if tc.apic {
				if rsdp != acpiAddr || img.Linux.RSDP != acpiAddr {
					t.Errorf("acpi_rsdp_addr %#x, want %#x", rsdp, acpiAddr)
				}
				checkACPI(t, ram, 3)
			} else if rsdp != 0 || img.Linux.RSDP != 0 || !allBytes(ram[acpiAddr:acpiAddr+64], 0xaa) {
				t.Errorf("ACPI tables written without APICs")
			}
		})
	}
}

func with_(b testBz, f func(*testBz)) testBz {
	f(&b)
	return b
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

// checkE820 insists on a sorted map without overlaps in which exactly the
// RAM is usable: [0, 0x500), [0x10000, 0x9fc00) and [1 MiB, lowRAM), and
// highRAM bytes from 4 GiB.
func checkE820(t *testing.T, m []E820Entry, lowRAM, highRAM uint64) {
	t.Helper()
	var usable []E820Entry
	for i, e := range m {
		if e.Size == 0 {
			t.Errorf("e820[%d] %+v is empty", i, e)
		}
		if i > 0 && m[i-1].Addr+m[i-1].Size > e.Addr {
			t.Errorf("e820[%d] %+v overlaps or precedes %+v", i, e, m[i-1])
		}
		if e.Type == E820RAM {
			usable = append(usable, e)
		}
	}
	want := []E820Entry{{0, 0x500, 1}, {0x10000, 0x9fc00 - 0x10000, 1}, {0x100000, lowRAM - 0x100000, 1}}
	if highRAM > 0 {
		want = append(want, E820Entry{1 << 32, highRAM, 1})
	}
	if fmt.Sprint(usable) != fmt.Sprint(want) {
		t.Errorf("usable RAM %+v, want %+v", usable, want)
	}
}

// checkACPI follows the RSDP to the XSDT and RSDT, checks every table's
// checksum, and reads the FADT and the MADT.
func checkACPI(t *testing.T, ram []byte, cpus int) {
	t.Helper()
	le := binary.LittleEndian
	r := ram[acpiAddr : acpiAddr+36]
	if string(r[:8]) != "RSD PTR " || sum(r[:20]) != 0 || sum(r) != 0 || r[15] != 2 {
		t.Fatalf("RSDP % x", r)
	}
	table := func(addr uint64, sig string) []byte {
		t.Helper()
		h := ram[addr:]
		n := le.Uint32(h[4:])
		if string(h[:4]) != sig || n < acpiHeaderLen || sum(h[:n]) != 0 {
			t.Fatalf("table at %#x: signature %q length %d checksum %d, want %s", addr, h[:4], n, sum(h[:n]), sig)
		}
		return h[:n]
	}
	xsdt := table(le.Uint64(r[24:]), "XSDT")
	rsdt := table(uint64(le.Uint32(r[16:])), "RSDT")
	sigs := map[string][]byte{}
	for i := acpiHeaderLen; i < len(xsdt); i += 8 {
		a := le.Uint64(xsdt[i:])
		if uint64(le.Uint32(rsdt[acpiHeaderLen+(i-acpiHeaderLen)/2:])) != a {
			t.Errorf("RSDT and XSDT disagree")
		}
		sigs[string(ram[a:a+4])] = table(a, string(ram[a:a+4]))
	}
	fadt, madt := sigs["FACP"], sigs["APIC"]
	if fadt == nil || madt == nil || len(sigs) != 2 {
		t.Fatalf("XSDT lists %v, want FACP and APIC", len(sigs))
	}
	if le.Uint32(fadt[112:])&fadtHWReduced == 0 || fadt[8] != 6 || len(fadt) != fadtLen {
		t.Errorf("FADT flags %#x revision %d length %d", le.Uint32(fadt[112:]), fadt[8], len(fadt))
	}
	if reset := fadt[116:128]; reset[0] != 1 || le.Uint64(reset[4:]) != 0x64 || fadt[128] != 0xfe {
		t.Errorf("reset register % x value %#x, want I/O port 0x64, 0xfe", reset, fadt[128])
	}
	dsdt := table(le.Uint64(fadt[140:]), "DSDT")
	if uint64(le.Uint32(fadt[40:])) != le.Uint64(fadt[140:]) || !bytes.Contains(dsdt, []byte("COM1")) {
		t.Errorf("DSDT at %#x/%#x lacks COM1", le.Uint32(fadt[40:]), le.Uint64(fadt[140:]))
	}
	if le.Uint32(madt[36:]) != lapicAddr {
		t.Errorf("MADT local APIC address %#x", le.Uint32(madt[36:]))
	}
	var lapics []byte
	ioapics := 0
	for i := 44; i < len(madt); i += int(madt[i+1]) {
		switch madt[i] {
		case 0:
			if madt[i+4]&1 == 0 {
				t.Errorf("local APIC %d not enabled", madt[i+3])
			}
			lapics = append(lapics, madt[i+3])
		case 1:
			ioapics++
			if le.Uint32(madt[i+4:]) != ioapicAddr {
				t.Errorf("IOAPIC at %#x", le.Uint32(madt[i+4:]))
			}
		}
		if madt[i+1] == 0 {
			t.Fatalf("MADT entry of length 0 at %d", i)
		}
	}
	if !bytes.Equal(lapics, []byte{0, 1, 2}[:cpus]) || ioapics != 1 {
		t.Errorf("MADT local APIC IDs %v and %d IOAPICs, want 0..%d and 1", lapics, ioapics, cpus-1)
	}
}

func sum(b []byte) byte {
	var s byte
	for _, x := range b {
		s += x
	}
	return s
}

func TestPVHLoad(t *testing.T) {
	le := binary.LittleEndian
	ram := make([]byte, 16<<20)
	initrd := gzipped(cpioArchive("init", []byte("x")))
	img, err := LoadWith(pvhELF(0x100010, 8).bytes(), ram, Options{Initrd: initrd, CPUs: 2, APIC: true, HighRAM: 1 << 30,
		Reserved: []Range{{GPA: 0xfeffc000, Size: 0x4000, Name: "kvm"}}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if img.Format != PVH || img.Entry.Mode != "protected" || img.Entry.RIP != 0x100010 || img.Entry.RBX != pvhInfoAddr {
		t.Fatalf("format %v mode %q RIP %#x RBX %#x", img.Format, img.Entry.Mode, img.Entry.RIP, img.Entry.RBX)
	}
	regs, sregs := resetState()
	img.Entry.Setup(&regs, &sregs)
	if regs.RBX != pvhInfoAddr || sregs.CR0&1 == 0 || sregs.CR0>>31 != 0 || sregs.CR4 != 0 {
		t.Errorf("RBX %#x CR0 %#x CR4 %#x: want the start info, protected mode, paging off", regs.RBX, sregs.CR0, sregs.CR4)
	}
	info := ram[pvhInfoAddr:]
	if le.Uint32(info) != hvmStartMagic || le.Uint32(info[4:]) != 1 || le.Uint32(info[12:]) != 1 {
		t.Fatalf("start info magic %#x version %d modules %d", le.Uint32(info), le.Uint32(info[4:]), le.Uint32(info[12:]))
	}
	mod := ram[le.Uint64(info[16:]):]
	if a, n := le.Uint64(mod), le.Uint64(mod[8:]); n != uint64(len(initrd)) || !bytes.Equal(ram[a:a+n], initrd) || a < 0x105000 {
		t.Errorf("module 0 at %#x+%#x is not the initrd", a, n)
	}
	if p := le.Uint64(info[24:]); cString(ram[p:]) != DefaultCmdline {
		t.Errorf("command line %q", cString(ram[p:]))
	}
	if le.Uint64(info[32:]) != acpiAddr {
		t.Errorf("rsdp_paddr %#x", le.Uint64(info[32:]))
	}
	checkACPI(t, ram, 2)
	mm, n := ram[le.Uint64(info[40:]):], int(le.Uint32(info[48:]))
	if n != len(img.Linux.E820) {
		t.Fatalf("memmap has %d entries, Linux.E820 %d", n, len(img.Linux.E820))
	}
	for i, e := range img.Linux.E820 {
		b := mm[i*hvmMemmapEntryLen:]
		if le.Uint64(b) != e.Addr || le.Uint64(b[8:]) != e.Size || le.Uint32(b[16:]) != e.Type {
			t.Errorf("memmap[%d] differs from %+v", i, e)
		}
	}
	checkE820(t, img.Linux.E820, uint64(len(ram)), 1<<30)
	last := img.Linux.E820[len(img.Linux.E820)-2]
	if last.Addr != 0xfeffc000 || last.Type != E820Reserved {
		t.Errorf("reserved range missing: %+v", img.Linux.E820)
	}
	if !bytes.Equal(ram[0x100000:0x103000], pattern(0x3000)) || !allBytes(ram[0x103000:0x105000], 0) {
		t.Errorf("segment not loaded")
	}
}

func TestLinuxLoadErrors(t *testing.T) {
	le := binary.LittleEndian
	const mib = 1 << 20
	bz := func(f func(*testBz)) []byte { return with_(smallBz(), f).bytes() }
	patch := func(f func([]byte)) []byte { b := smallBz().bytes(); f(b); return b }
	good := smallBz().bytes()
	cpio := cpioArchive("init", pattern(100))
	for _, tc := range []struct {
		name  string
		image []byte
		opts  Options
		ram   int // 0: 4 MiB
		want  string
	}{
		{"truncated bzImage", good[:len(good)-100], Options{}, 0, "truncated bzImage: the header promises 8192 bytes of kernel after the 2560-byte setup, the file has 8092"},
		{"truncated header", good[:0x220], Options{}, 0, "truncated bzImage: 544 bytes, shorter than its 0x26c-byte setup header"},
		{"setup past the end", patch(func(b []byte) { b[bzSetupSectsOff] = 60 }), Options{}, 0, "truncated bzImage: 60 setup sectors end at 0x7a00, the file has 10752 bytes"},
		{"no kernel", bz(func(b *testBz) { b.pmSize = 0 }), Options{}, 0, "corrupt bzImage: the setup header gives no protected-mode kernel (syssize 0)"},
		{"bad jump", patch(func(b []byte) { b[bzJumpOff] = 0x90 }), Options{}, 0, "corrupt bzImage: the jump at 0x200"},
		{"zImage", bz(func(b *testBz) { b.loadflags = 0 }), Options{}, 0, "Linux zImage (loaded below 1 MiB): only bzImages are booted: not supported yet"},
		{"payload outside", bz(func(b *testBz) { b.payloadLen = 0x3000 }), Options{}, 0, "corrupt bzImage: the compressed kernel (12288 bytes at 0x100) lies outside the 8192-byte protected-mode code"},
		{"payload unknown", patch(func(b []byte) { copy(b[0xa00+testPayloadOff:], "\x00\x01\x02") }), Options{}, 0, "corrupt bzImage: the compressed kernel starts with 00 01 02"},
		{"xz header damaged", patch(func(b []byte) { b[0xa00+testPayloadOff+7] ^= 1 }), Options{}, 0, "corrupt bzImage: compressed kernel: xz stream header CRC32 mismatch"},
		{"xz footer gone", patch(func(b []byte) { le.PutUint32(b[bzPayloadLenOff:], 0x800) }), Options{}, 0, "corrupt bzImage: compressed kernel: xz stream has no footer at its end (truncated?)"},
		{"xz footer damaged", patch(func(b []byte) { b[0xa00+testPayloadOff+0x1000-10] ^= 1 }), Options{}, 0, "xz stream footer is damaged"},
		{"alignment", bz(func(b *testBz) { b.align = 0x3000 }), Options{}, 0, "corrupt bzImage: kernel_alignment 0x3000 is not a power of two"},
		{"init_size", bz(func(b *testBz) { b.initSize = 0x100 }), Options{}, 0, "corrupt bzImage: init_size 0x100 is smaller than the 0x2000-byte kernel"},
		{"pref_address", bz(func(b *testBz) { b.prefAddr = 0x1234 }), Options{}, 0, "corrupt bzImage: pref_address 0x1234 is not a page in RAM at or above 1 MiB"},
		{"kernel too large", bz(func(b *testBz) { b.prefAddr = 16 * mib; b.initSize = 64 * mib }), Options{}, 64 * mib,
			"Linux kernel needs 80 MiB of RAM (it decompresses to 0x1000000 and needs 64 MiB there), the guest has 64 MiB: use --mem 128M or more"},
		{"kernel over RAM", bz(func(b *testBz) { b.pmSize = 4 * mib; b.initSize = 4 * mib }), Options{}, 4 * mib, "Linux kernel of 4 MiB does not fit: the guest has 4 MiB of RAM"},
		{"command line too long", good, Options{Cmdline: strings.Repeat("x", 2048)}, 0, "kernel command line of 2048 bytes is longer than the 2047 this kernel takes (cmdline_size)"},
		{"command line over header", bz(func(b *testBz) { b.cmdlineSize = 255 }), Options{Cmdline: strings.Repeat("y", 256)}, 0, "kernel command line of 256 bytes is longer than the 255"},
		{"command line NUL", good, Options{Cmdline: "console=ttyS0\x00x"}, 0, "kernel command line has a NUL byte at offset 13"},
		{"initrd too large", good, Options{Initrd: cpioArchive("big", make([]byte, 3*mib))}, 0, "initrd of 3145968 bytes does not fit: the RAM between the kernel's end at 0x110000 and 0x400000 holds 3008 KiB"},
		{"initrd above its limit", bz(func(b *testBz) { b.initrdMax = 0x1fffff }), Options{Initrd: cpioArchive("big", make([]byte, mib))}, 0, "does not fit: the RAM between the kernel's end at 0x110000 and 0x200000"},
		{"initrd empty", good, Options{Initrd: []byte{}}, 0, "initrd is empty"},
		{"initrd garbage", good, Options{Initrd: []byte("hello world")}, 0, "initrd at offset 0: not a cpio archive or a compressed one (starts with 68 65 6c 6c 6f 20 77 6f)"},
		{"initrd truncated", good, Options{Initrd: cpio[:len(cpio)-20]}, 0, "initrd at offset 0: truncated cpio archive"},
		{"initrd truncated data", good, Options{Initrd: cpio[:200]}, 0, `initrd at offset 0: truncated cpio archive: "init" wants 100 bytes`},
		{"initrd bad gzip", good, Options{Initrd: gzipped(cpio)[:60]}, 0, "initrd at offset 0: gzip data is damaged or truncated"},
		{"initrd misaligned", good, Options{Initrd: misaligned(gzipped(cpio), cpio)}, 0, "cpio archive not 4-byte aligned"},
		{"initrd bad xz", good, Options{Initrd: fakeXZ(100)[:90]}, 0, "initrd at offset 0: xz stream has no footer"},
		{"too many CPUs for the MADT", good, Options{CPUs: 256, APIC: true}, 0, "256 vCPUs: the MADT's local APIC entries name at most 255"},
		{"reserved over RAM", good, Options{Reserved: []Range{{GPA: 0x300000, Size: 4096, Name: "x"}}}, 0, "reserved range x [0x300000+0x1000) overlaps RAM"},
		{"vmlinux without PVH", pvhELF(0, 8).bytes(), Options{}, 0, "Linux vmlinux without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY, from CONFIG_PVH=y): boot its bzImage instead"},
		{"PVH note too short", pvhELF(0x100010, 2).bytes(), Options{}, 0, "corrupt PVH entry note: a 2-byte address, want 4 or 8"},
		{"PVH entry outside", pvhELF(0x200000, 4).bytes(), Options{}, 0, "PVH entry point 0x200000 lies outside any loaded executable segment"},
		{"PVH kernel too large", pvhELF(0x100010, 8).bytes(), Options{}, 0x104000, "Linux kernel needs 2 MiB of RAM (its segments end at 0x105000), the guest has 1040 KiB: use --mem 64M or more"},
		{"PVH command line", pvhELF(0x100010, 8).bytes(), Options{Cmdline: strings.Repeat("z", 3000)}, 0, "kernel command line of 3000 bytes is longer than the 2047 this kernel takes (COMMAND_LINE_SIZE)"},
		{"PVH truncated", pvhELF(0x100010, 8).bytes()[:0x1000], Options{}, 0, "truncated file: segment 0 wants 0x3000 bytes"},
		{"ELF with a command line", sample64().bytes(), Options{Cmdline: "x"}, 0, "a kernel command line and an initrd are for Linux kernels (a bzImage, or a vmlinux with a PVH note) and multiboot kernels; this image is ELF64"},
		{"firmware with an initrd", pattern(4096), Options{Initrd: cpio}, 0, "this image is firmware"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size := tc.ram
			if size == 0 {
				size = 4 * mib
			}
			ram := make([]byte, size)
			img, err := LoadWith(tc.image, ram, tc.opts)
			if err == nil {
				t.Fatalf("Load succeeded (%v), want error containing %q", img.Format, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\ndoes not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans lines", err)
			}
			if !allBytes(ram, 0) {
				t.Errorf("a refused image wrote into RAM")
			}
		})
	}
}

func TestInitrdFormats(t *testing.T) {
	cpio := cpioArchive("init", []byte("#!/bin/sh\n"))
	pad := func(b []byte) []byte { return append(b, make([]byte, (4-len(b)%4)%4)...) }
	for name, initrd := range map[string][]byte{
		"cpio":                   cpio,
		"gzip":                   gzipped(cpio),
		"cpio then gzip":         append(append([]byte{}, cpio...), gzipped(cpio)...),
		"gzip, padding, cpio":    append(pad(gzipped(cpio)), cpio...),
		"cpio with zero padding": append(append([]byte{}, cpio...), make([]byte, 512)...),
		"xz":                     fakeXZ(64),
		"zstd":                   []byte("\x28\xb5\x2f\xfd rest"),
	} {
		if err := checkInitrd(initrd); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestAMLEncodings(t *testing.T) {
	if got := eisaID("PNP", 0x0501); got != 0x0105d041 {
		t.Errorf("EisaId(PNP0501) = %#x, want 0x0105d041", got)
	}
	for _, tc := range []struct {
		n    int
		want []byte
	}{
		{0, []byte{1}}, {62, []byte{63}}, {63, []byte{0x41, 0x04}}, {0xffd, []byte{0x4f, 0xff}},
		{0xffe, []byte{0x81, 0x00, 0x01}},
	} {
		if got := amlPkgLength(tc.n); !bytes.Equal(got, tc.want) {
			t.Errorf("PkgLength(%d) = % x, want % x", tc.n, got, tc.want)
		}
	}
	// COM1's resources: IO(Decode16, 0x3F8, 0x3F8, 1, 8), IRQNoFlags(){4}, end tag.
	want := []byte{0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, 0x22, 0x10, 0x00, 0x79, 0x00}
	if got := resources(ioPorts(0x3f8, 8), irqMask(4)); !bytes.Equal(got, want) {
		t.Errorf("COM1 resources % x, want % x", got, want)
	}
	d := dsdtBody()
	if d[0] != 0x10 || !bytes.Contains(d[:8], []byte(`\_SB_`)) {
		t.Errorf("DSDT body starts % x, want Scope(\\_SB_)", d[:8])
	}
}

// TestDebianKernel loads the sandbox's own kernel, when `kvmbox setup` has
// fetched it, both ways; the KVM tests in samples/linux boot it.
func TestDebianKernel(t *testing.T) {
	c := kvmbox.Cache{Dir: kvmbox.Dir()}
	kver, err := c.KernelVersion()
	if err != nil {
		t.Skipf("no kernel from `kvmbox setup` here: %v", err)
	}
	for _, tc := range []struct {
		file   string
		format Format
	}{{c.Vmlinuz(kver), BzImage}, {c.Vmlinux(kver), PVH}} {
		image, err := os.ReadFile(tc.file)
		if err != nil {
			t.Skipf("no kernel from `kvmbox setup` here: %v", err)
		}
		ram := make([]byte, 256<<20)
		img, err := LoadWith(image, ram, Options{CPUs: 2, APIC: true, Initrd: cpioArchive("init", nil)})
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if img.Format != tc.format {
			t.Errorf("%s: format %v, want %v", tc.file, img.Format, tc.format)
		}
		t.Logf("%s: %v, %s, kernel [%#x-%#x), initrd at %#x", tc.file, img.Format, img.Linux.Protocol, img.Linux.KernelStart, img.Linux.KernelEnd, img.Linux.InitrdAddr)
		_, err = LoadWith(image, make([]byte, 64<<20), Options{})
		if err == nil || !strings.Contains(err.Error(), "use --mem 128M or more") {
			t.Errorf("%s in 64 MiB: %v, want the --mem advice", tc.file, err)
		}
		if tc.format == BzImage {
			image[len(image)/2] ^= 0x40 // in the middle of the compressed kernel
			if _, err := LoadWith(image, ram, Options{}); err == nil || !strings.Contains(err.Error(), "does not match its contents") {
				t.Errorf("%s damaged mid-payload: %v, want the CRC mismatch", tc.file, err)
			}
		}
	}
}
