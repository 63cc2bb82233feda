package boot

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// multibootHeaderBytes is a multiboot header with the given flags and a
// correct checksum (sum is added to it, to break it).
func multibootHeaderBytes(flags, sum uint32) []byte {
	b := make([]byte, 12)
	binary.LittleEndian.PutUint32(b, multibootMagic)
	binary.LittleEndian.PutUint32(b[4:], flags)
	binary.LittleEndian.PutUint32(b[8:], -(multibootMagic+flags)+sum)
	return b
}

// multibootELF is sample32 with a multiboot header at the start of its
// code segment (as kvm-unit-tests' cstart.S has it) and the entry after it.
func multibootELF(flags uint32) testELF {
	e := sample32()
	e.segs[0].data = append(multibootHeaderBytes(flags, 0), e.segs[0].data...)
	e.entry = e.segs[0].paddr + 12
	return e
}

// loadMultibootTest loads e with opts into ram of the given size.
func loadMultibootTest(t *testing.T, e testELF, size int, opts Options) ([]byte, *Image) {
	t.Helper()
	ram := make([]byte, size)
	img, err := LoadWith(e.bytes(), ram, opts)
	if err != nil {
		t.Fatalf("LoadWith: %v", err)
	}
	if img.Format != Multiboot1 || img.Multiboot == nil {
		t.Fatalf("format %v, info %v: want a multiboot kernel", img.Format, img.Multiboot)
	}
	return ram, img
}

func TestMultibootInfo(t *testing.T) {
	le := binary.LittleEndian
	const size = 8 << 20
	initrd := []byte("NR_CPUS=2\nMEMSIZE=8\n")
	opts := Options{Cmdline: "-v fast", Initrd: initrd, ImageName: "x86/test.flat", APIC: true, CPUs: 2,
		Reserved: []Range{{GPA: 0xfeffc000, Size: 0x4000, Name: "kvm"}}}
	ram, img := loadMultibootTest(t, multibootELF(mbHeaderPageAlign|mbHeaderMemInfo), size, opts)

	regs, sregs := resetState()
	img.Entry.Setup(&regs, &sregs)
	checkSegmentRules(t, sregs)
	checkGDTMatchesSregs(t, ram, sregs, false)
	if regs.RAX != 0x2badb002 || sregs.CR0&1 == 0 || sregs.CR0&(1<<31) != 0 || sregs.EFER != 0 {
		t.Fatalf("entry EAX %#x CR0 %#x EFER %#x: want 0x2badb002, protected mode, paging off", regs.RAX, sregs.CR0, sregs.EFER)
	}
	if sregs.CS.DB != 1 || sregs.CS.L != 0 || sregs.CS.Base != 0 || sregs.CS.Limit != 0xffffffff {
		t.Fatalf("CS %+v: want flat 32-bit", sregs.CS)
	}
	// The kernel's data segment ends at 0x203000: the area starts on the
	// next page.
	const area = 0x203000
	if regs.RBX != area || img.Multiboot.InfoAddr != area {
		t.Fatalf("EBX %#x, info at %#x: want %#x", regs.RBX, img.Multiboot.InfoAddr, area)
	}
	// The vCPU starts in the stub, which ends loading EAX and EBX and
	// jumping to the kernel's entry.
	if regs.RIP != area+mbStubOff {
		t.Fatalf("EIP %#x, want the stub at %#x", regs.RIP, area+mbStubOff)
	}
	stub := multibootStub(0x10000c, area)
	if !bytes.Equal(ram[regs.RIP:regs.RIP+uint64(len(stub))], stub) {
		t.Fatalf("stub % x", ram[regs.RIP:regs.RIP+uint64(len(stub))])
	}
	tail := []byte{0xb8, 0x02, 0xb0, 0xad, 0x2b, 0xbb, 0x00, 0x30, 0x20, 0x00, 0xb9, 0x0c, 0x00, 0x10, 0x00, 0xff, 0xe1}
	if !bytes.HasSuffix(stub, tail) {
		t.Errorf("stub ends % x, want mov eax,0x2badb002; mov ebx,info; mov ecx,entry; jmp ecx", stub[len(stub)-len(tail):])
	}
	// The BIOS's state: the PIT's vector 8 and the slave's 0x73 acknowledge
	// and return, vector 0x30 only returns.
	vec := func(v int) []byte {
		off, seg := le.Uint16(ram[4*v:]), le.Uint16(ram[4*v+2:])
		return ram[uint32(seg)<<4+uint32(off):]
	}
	if !bytes.HasPrefix(vec(8), rmEOIMaster) || !bytes.HasPrefix(vec(0x73), rmEOIBoth) || vec(0x30)[0] != 0xcf {
		t.Errorf("IVT handlers: 8 % x, 0x73 % x, 0x30 % x", vec(8)[:7], vec(0x73)[:9], vec(0x30)[:1])
	}
	mbi := ram[area:]
	field := func(off int) uint32 { return le.Uint32(mbi[off:]) }
	if got, want := field(0), uint32(1|4|8|64|512); got != want {
		t.Errorf("flags %#x, want %#x", got, want)
	}
	if field(4) != 639 || field(8) != (size-1<<20)>>10 {
		t.Errorf("mem_lower %d mem_upper %d, want 639 and %d KiB", field(4), field(8), (size-1<<20)>>10)
	}
	if got := cString(ram[field(16):]); got != "x86/test.flat -v fast" {
		t.Errorf("command line %q", got)
	}
	if field(20) != 1 {
		t.Fatalf("mods_count %d, want 1", field(20))
	}
	mod := ram[field(24):]
	start, end := le.Uint32(mod), le.Uint32(mod[4:])
	if start%pageSize != 0 || start < area+mbAreaLen || end-start != uint32(len(initrd)) || !bytes.Equal(ram[start:end], initrd) {
		t.Errorf("module [%#x-%#x) holds %q, want the page-aligned initrd after the area", start, end, ram[start:end])
	}
	if got := cString(ram[le.Uint32(mod[8:]):]); got != "initrd" {
		t.Errorf("module string %q", got)
	}
	if got := cString(ram[field(64):]); got != "kvmscope" {
		t.Errorf("boot loader name %q", got)
	}

	var mmap []E820Entry
	for off := field(48); off < field(48)+field(44); {
		e := ram[off:]
		mmap = append(mmap, E820Entry{le.Uint64(e[4:]), le.Uint64(e[12:]), le.Uint32(e[20:])})
		off += le.Uint32(e) + 4
	}
	want := fmt.Sprint([]E820Entry{
		{0, 0x9fc00, E820RAM}, {0x9fc00, 0xe0000 - 0x9fc00, E820Reserved}, {0xe0000, 0x1000, E820ACPI},
		{0xe1000, 0x1f000, E820Reserved}, {0x100000, size - 0x100000, E820RAM}, {0xfeffc000, 0x4000, E820Reserved},
	})
	if got := fmt.Sprint(mmap); got != want || fmt.Sprint(img.Multiboot.Mmap) != want {
		t.Errorf("memory map\n%v\nwant\n%v", got, want)
	}

	// The FADT names the PM timer, and so is not hardware-reduced.
	if img.Multiboot.RSDP != acpiAddr {
		t.Fatalf("RSDP at %#x", img.Multiboot.RSDP)
	}
	fadt := findTable(t, ram, "FACP")
	if le.Uint32(fadt[76:]) != PMTimerPort || fadt[91] != 4 || le.Uint32(fadt[112:])&fadtHWReduced != 0 {
		t.Errorf("FADT PM_TMR_BLK %#x PM_TMR_LEN %d flags %#x, want 0x608, 4, not hardware-reduced",
			le.Uint32(fadt[76:]), fadt[91], le.Uint32(fadt[112:]))
	}
	if x := fadt[208:220]; x[0] != 1 || x[1] != 32 || le.Uint64(x[4:]) != PMTimerPort {
		t.Errorf("X_PM_TMR_BLK % x", x)
	}
}

// findTable follows the RSDP's RSDT to the table with the signature.
func findTable(t *testing.T, ram []byte, sig string) []byte {
	t.Helper()
	le := binary.LittleEndian
	rsdt := ram[le.Uint32(ram[acpiAddr+16:]):]
	for off := uint32(acpiHeaderLen); off < le.Uint32(rsdt[4:]); off += 4 {
		tb := ram[le.Uint32(rsdt[off:]):]
		if string(tb[:4]) == sig {
			return tb[:le.Uint32(tb[4:])]
		}
	}
	t.Fatalf("no %s table", sig)
	return nil
}

func TestMultibootDefaults(t *testing.T) {
	le := binary.LittleEndian
	ram, img := loadMultibootTest(t, multibootELF(0), 4<<20, Options{})
	mbi := ram[img.Multiboot.InfoAddr:]
	if got := cString(ram[le.Uint32(mbi[16:]):]); got != "kernel" {
		t.Errorf("command line %q, want the name alone", got)
	}
	if le.Uint32(mbi[20:]) != 0 || img.Multiboot.InitrdAddr != 0 {
		t.Errorf("mods_count %d without an initrd", le.Uint32(mbi[20:]))
	}
	if !img.Entry.NoLocalAPIC || img.Multiboot.RSDP != 0 || ram[acpiAddr] != 0 {
		t.Errorf("a machine without APICs got ACPI tables or a local APIC")
	}
}

// A magic without a valid checksum is not a header: the image is a plain
// ELF32, and then takes no command line.
func TestMultibootBadChecksum(t *testing.T) {
	e := sample32()
	e.segs[0].data = append(multibootHeaderBytes(0, 1), e.segs[0].data...)
	e.entry += 12
	ram := make([]byte, 4<<20)
	img, err := Load(e.bytes(), ram)
	if err != nil || img.Format != ELF32 || img.Entry.RAX != 0 {
		t.Fatalf("Load: %v, format %v, EAX %#x: want a plain ELF32", err, img.Format, img.Entry.RAX)
	}
}

// A header beyond the first 8 KiB is not looked for.
func TestMultibootHeaderPast8K(t *testing.T) {
	e := sample32()
	e.segs[0].data = append(make([]byte, 8192), append(multibootHeaderBytes(0, 0), 0xf4)...)
	if _, ok := findMultiboot(e.bytes()); ok {
		t.Fatal("found a header past the first 8 KiB")
	}
	if _, ok := findMultiboot(multibootELF(0).bytes()); !ok {
		t.Fatal("no header in multibootELF")
	}
}

func TestMultibootErrors(t *testing.T) {
	big := bytes.Repeat([]byte{0x70}, 3<<20)
	for _, tc := range []struct {
		name  string
		e     testELF
		size  int
		opts  Options
		want  string
		isErr error
	}{
		{"video mode", multibootELF(mbHeaderVideoMode), 4 << 20, Options{}, "asks for a video mode", ErrNotSupported},
		{"unknown requirement", multibootELF(1 << 5), 4 << 20, Options{}, "requires features 0x20", nil},
		{"initrd too big", multibootELF(0), 4 << 20, Options{Initrd: big}, "use a larger --mem", nil},
		{"command line too long", multibootELF(0), 4 << 20, Options{Cmdline: strings.Repeat("a", 5000)}, "longer than the 4095", nil},
		{"over the GDT", with(multibootELF(0), func(e *testELF) { e.segs[1].paddr = 0x400 }), 4 << 20, Options{}, "overlaps the loader's GDT", nil},
		{"over the IVT", with(multibootELF(0), func(e *testELF) { e.segs[1].paddr = 0 }), 4 << 20, Options{}, "overlaps the loader's real-mode interrupt vector table", nil},
		{"over the BIOS handlers", with(multibootELF(0), func(e *testELF) { e.segs[1].paddr = 0xfe000 }), 4 << 20, Options{}, "overlaps the loader's real-mode interrupt handlers", nil},
		{"over the ACPI tables", with(multibootELF(0), func(e *testELF) { e.segs[1].paddr = 0xe8000 }), 4 << 20, Options{}, "overlaps the loader's ACPI tables", nil},
		{"entry outside", with(multibootELF(0), func(e *testELF) { e.entry = 0x300000 }), 4 << 20, Options{}, "multiboot entry point 0x300000 lies outside", nil},
		{"RAM too small", multibootELF(0), 1 << 20, Options{}, "lies outside guest RAM", nil},
		{"no room for the area", with(multibootELF(0), func(e *testELF) { e.segs[1].memsz = 0x1ff000 }), 4 << 20, Options{}, "need 5 MiB of RAM", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ram := make([]byte, tc.size)
			img, err := LoadWith(tc.e.bytes(), ram, tc.opts)
			if err == nil {
				t.Fatalf("loaded (%v), want error containing %q", img.Format, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q, want one line containing %q", err, tc.want)
			}
			if tc.isErr != nil && !errors.Is(err, tc.isErr) {
				t.Errorf("error %v is not %v", err, tc.isErr)
			}
			if !allBytes(ram, 0) {
				t.Error("a refused image wrote into RAM")
			}
		})
	}
}

// An ELF64 with the magic is not a multiboot kernel: multiboot 1 enters
// 32-bit code.
func TestMultibootOnlyELF32(t *testing.T) {
	e := sample64()
	e.segs[0].data = append(multibootHeaderBytes(0, 0), e.segs[0].data...)
	e.entry += 12
	ram := make([]byte, 4<<20)
	img, err := Load(e.bytes(), ram)
	if err != nil || img.Format != ELF64 {
		t.Fatalf("Load: %v, format %v", err, img.Format)
	}
	if e.class != elf.ELFCLASS64 && e.class != 0 {
		t.Fatal("sample64 is not 64-bit")
	}
}

// fuzzMultiboot is the multiboot seed, small enough for the fuzzer's RAM.
func fuzzMultiboot() []byte {
	return fuzzSeed(multibootELF(mbHeaderPageAlign | mbHeaderMemInfo))
}
