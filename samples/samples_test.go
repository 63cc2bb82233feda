package samples

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var wantNames = []string{
	"bench-compute", "bench-cpuid", "bench-doorbell", "bench-hlt", "bench-mmio", "bench-pio", "bench-piowindow", "bench-window",
	"demo", "elf32-hello", "fw-realmode", "hello", "kut-mini", "modes", "pio-loop", "recurse", "rom-write", "runaway", "spin-cli", "triple-fault",
}

var (
	firmwareNames = []string{
		"bench-compute", "bench-cpuid", "bench-doorbell", "bench-hlt", "bench-mmio", "bench-pio", "bench-piowindow", "bench-window",
		"demo", "fw-realmode", "modes",
	}
	benchNames = firmwareNames[:8]
)

func TestNames(t *testing.T) {
	names := Names()
	if !slices.Equal(names, wantNames) {
		t.Fatalf("Names() = %q, want %q", names, wantNames)
	}
	for _, name := range names {
		img, err := Image(name)
		if err != nil {
			t.Fatalf("Image(%q): %v", name, err)
		}
		if len(img) == 0 {
			t.Errorf("Image(%q) is empty", name)
		}
		if Describe(name) == "" {
			t.Errorf("Describe(%q) is empty", name)
		}
		if _, err := Expect(name); err != nil {
			t.Errorf("Expect(%q): %v", name, err)
		}
	}
	if len(catalog) != len(names) {
		t.Errorf("catalog has %d samples, build/ has %d", len(catalog), len(names))
	}
}

func TestImageUnknown(t *testing.T) {
	for _, name := range []string{"nope", "", "hello.elf", "build/hello", "*"} {
		_, err := Image(name)
		if err == nil {
			t.Fatalf("Image(%q): no error", name)
		}
		for _, n := range wantNames {
			if !strings.Contains(err.Error(), n) {
				t.Errorf("Image(%q) error %q does not list %q", name, err, n)
			}
		}
	}
	if d := Describe("nope"); d != "" {
		t.Errorf("Describe(nope) = %q, want empty", d)
	}
	if _, err := Expect("nope"); err == nil {
		t.Errorf("Expect(nope): no error")
	}
}

// The images return fresh copies: changing one must not change the next.
func TestImageIsACopy(t *testing.T) {
	a, _ := Image("hello")
	a[0] ^= 0xff
	b, _ := Image("hello")
	if a[0] == b[0] {
		t.Fatal("Image returned shared bytes")
	}
}

const loadAddr = 0x100000 // where every ELF sample is linked and entered

func TestELFImages(t *testing.T) {
	tests := []struct {
		name    string
		class   elf.Class
		machine elf.Machine
		symbols []string
	}{
		{"hello", elf.ELFCLASS64, elf.EM_X86_64, []string{"_start", "puts", "message", "stack_top"}},
		{"pio-loop", elf.ELFCLASS64, elf.EM_X86_64, []string{"_start", "iterations", "run", "stack_top"}},
		{"triple-fault", elf.ELFCLASS64, elf.EM_X86_64, []string{"_start", "puts", "fault", "empty_idt", "stack_top"}},
		{"elf32-hello", elf.ELFCLASS32, elf.EM_386, []string{"_start", "puts", "message", "stack_top"}},
		{"recurse", elf.ELFCLASS32, elf.EM_386, []string{"_start", "sum", "sum_call", "sum_return"}},
		{"kut-mini", elf.ELFCLASS32, elf.EM_386, []string{"_start", "mb_header", "entry", "puts", "stack_top"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Image(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			f, err := elf.NewFile(bytes.NewReader(img))
			if err != nil {
				t.Fatalf("parse ELF: %v", err)
			}
			if f.Class != tt.class || f.Machine != tt.machine || f.Type != elf.ET_EXEC {
				t.Fatalf("class %v machine %v type %v, want %v %v ET_EXEC", f.Class, f.Machine, f.Type, tt.class, tt.machine)
			}
			if f.Entry != loadAddr {
				t.Errorf("entry %#x, want %#x", f.Entry, loadAddr)
			}

			var text, stack *elf.Prog
			for _, p := range f.Progs {
				switch p.Type {
				case elf.PT_INTERP, elf.PT_DYNAMIC:
					t.Errorf("has a %v segment: not a static image", p.Type)
				case elf.PT_LOAD:
					if p.Paddr != p.Vaddr || p.Paddr < loadAddr {
						t.Errorf("PT_LOAD paddr %#x vaddr %#x: want equal and at or above %#x", p.Paddr, p.Vaddr, loadAddr)
					}
					if f.Entry >= p.Paddr && f.Entry < p.Paddr+p.Filesz && p.Flags&elf.PF_X != 0 {
						text = p
					}
					if p.Flags&elf.PF_W != 0 {
						stack = p
					}
				}
			}
			if text == nil {
				t.Fatalf("entry %#x is in no executable PT_LOAD segment's file bytes", f.Entry)
			}

			syms, err := f.Symbols()
			if err != nil {
				t.Fatalf("symbol table: %v", err)
			}
			byName := map[string]elf.Symbol{}
			for _, s := range syms {
				byName[s.Name] = s
			}
			for _, want := range tt.symbols {
				if _, ok := byName[want]; !ok {
					t.Errorf("no symbol %q", want)
				}
			}
			if s := byName["_start"]; s.Value != f.Entry {
				t.Errorf("_start = %#x, entry = %#x", s.Value, f.Entry)
			}
			// The stack is the sample's own, 16-byte aligned, in writable memory.
			top := byName["stack_top"].Value
			if stack == nil || top <= stack.Paddr || top > stack.Paddr+stack.Memsz || top%16 != 0 {
				t.Errorf("stack_top %#x is not the aligned end of writable memory (%+v)", top, stack)
			}

			out, _ := Expect(tt.name)
			if out.Serial != "" && !bytes.Contains(img, []byte(out.Serial+"\x00")) && tt.name != "kut-mini" {
				t.Errorf("image does not hold the string %q", out.Serial)
			}
		})
	}
}

func TestPIOLoopIterations(t *testing.T) {
	img, _ := Image("pio-loop")
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var iter, port *elf.Symbol
	for i, s := range syms {
		switch s.Name {
		case "iterations":
			iter = &syms[i]
		case "PIO_PORT":
			port = &syms[i]
		}
	}
	if iter == nil || iter.Value != PIOLoopIterationsAddr || iter.Size != 8 || f.Sections[iter.Section].Name != ".iterations" {
		t.Fatalf("iterations symbol %+v: want 8 bytes at %#x in .iterations", iter, PIOLoopIterationsAddr)
	}
	if port == nil || port.Value != PIOLoopPort {
		t.Fatalf("PIO_PORT symbol %+v, want %#x", port, PIOLoopPort)
	}

	off, err := fileOffset(img, PIOLoopIterationsAddr, 8)
	if err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint64(img[off:]); n != PIOLoopDefaultIterations {
		t.Errorf("iterations = %d, want %d", n, PIOLoopDefaultIterations)
	}
	// The image starts with a jump (E9 rel32) over the count.
	start, _ := fileOffset(img, loadAddr, 8)
	if img[start] != 0xe9 {
		t.Errorf("first byte %#x, want a jmp rel32 (0xe9)", img[start])
	}

	patched, err := PIOLoopImage(7)
	if err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint64(patched[off:]); n != 7 {
		t.Errorf("patched iterations = %d, want 7", n)
	}
	if again, _ := Image("pio-loop"); !bytes.Equal(again, img) {
		t.Error("PIOLoopImage changed the embedded image")
	}
	copy(patched[off:off+8], img[off:off+8])
	if !bytes.Equal(patched, img) {
		t.Error("PIOLoopImage changed more than the count")
	}
}

// TestFirmware checks every raw image: 64 KiB, ending in the reset
// vector's far jump to code below it in segment F000h.
func TestFirmware(t *testing.T) {
	for _, name := range firmwareNames {
		t.Run(name, func(t *testing.T) {
			img, err := Image(name)
			if err != nil {
				t.Fatal(err)
			}
			if len(img) != FirmwareSize {
				t.Fatalf("size %d, want %d", len(img), FirmwareSize)
			}
			// Reset vector: ljmp $0xf000, $start (EA, offset, segment).
			rv := img[0xfff0:]
			if rv[0] != 0xea {
				t.Fatalf("byte at 0xfff0 is %#x, want a far jmp (0xea)", rv[0])
			}
			off, seg := binary.LittleEndian.Uint16(rv[1:]), binary.LittleEndian.Uint16(rv[3:])
			if seg != 0xf000 || off >= 0xfff0 {
				t.Fatalf("reset vector jumps to %04x:%04x, want f000:<code below the vector>", seg, off)
			}
			if img[off] != 0xfa { // cli
				t.Errorf("code at f000:%04x starts with %#x, want cli (0xfa)", off, img[off])
			}
			if !bytes.Equal(rv[5:], bytes.Repeat([]byte{0xff}, 11)) {
				t.Errorf("reset vector padding % x, want 0xff", rv[5:])
			}
			if _, err := elf.NewFile(bytes.NewReader(img)); err == nil {
				t.Error("a raw image parses as ELF")
			}
			out, _ := Expect(name)
			if out.Serial != "" && !bytes.Contains(img, []byte(out.Serial+"\x00")) && name != "fw-realmode" {
				t.Errorf("image does not hold the string %q", out.Serial)
			}
		})
	}
	img, _ := Image("fw-realmode")
	if !bytes.Contains(img, []byte("fw: \x00")) {
		t.Error(`fw-realmode does not hold "fw: "`)
	}
}

// modesSymbols are the symbols the debugger relies on, in the order the
// CPU reaches them, with the mode it is in there.
var modesSymbols = []struct{ name, mode string }{
	{"reset_vector", "real"},
	{"start", "real"},
	{"real_mode_work", "real"},
	{"to_prot_mode", "real"},
	{"prot_mode_entry", "32-bit protected"},
	{"prot_mode_work", "32-bit protected"},
	{"to_long_mode", "32-bit protected"},
	{"long_mode_entry", "64-bit long"},
	{"long_mode_work", "64-bit long"},
	{"finish", "64-bit long"},
	{"puts", "64-bit long"},
}

// fwBase is the linear address of a firmware image's first byte, in the
// copy below 1 MiB that its code runs from.
const fwBase = 0xf0000

// firmwareSymbols checks that the named raw sample's symbol file (modes,
// demo) holds the bytes of its .bin, as an ELF64 entered at the reset
// vector, and returns the .bin and the symbols by name.
func firmwareSymbols(t *testing.T, name string) ([]byte, map[string]elf.Symbol) {
	t.Helper()
	bin, err := Image(name)
	if err != nil {
		t.Fatal(err)
	}
	elfImg, err := SymbolFile(name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(elfImg))
	if err != nil {
		t.Fatalf("parse %s.elf: %v", name, err)
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC {
		t.Fatalf("class %v machine %v type %v, want ELFCLASS64 EM_X86_64 ET_EXEC", f.Class, f.Machine, f.Type)
	}
	if f.Entry != 0xfffffff0 {
		t.Errorf("entry %#x, want the reset vector 0xfffffff0", f.Entry)
	}

	// Every loaded byte of the ELF is the .bin's byte at its load address.
	var loaded uint64
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		if p.Paddr < fwBase || p.Paddr+p.Filesz > fwBase+FirmwareSize {
			t.Fatalf("PT_LOAD at paddr %#x+%#x is outside 0xf0000-0xfffff", p.Paddr, p.Filesz)
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, bin[p.Paddr-fwBase:p.Paddr-fwBase+p.Filesz]) {
			t.Errorf("PT_LOAD at paddr %#x (vaddr %#x) differs from %s.bin", p.Paddr, p.Vaddr, name)
		}
		loaded += p.Filesz
	}
	if loaded != FirmwareSize {
		t.Errorf("PT_LOAD segments hold %d bytes, want %d", loaded, FirmwareSize)
	}

	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]elf.Symbol{}
	for _, s := range syms {
		byName[s.Name] = s
	}
	// The reset vector jumps to start in the copy below 1 MiB.
	rv := binary.LittleEndian.AppendUint16([]byte{0xea}, uint16(byName["start"].Value-fwBase))
	if rv = append(rv, 0x00, 0xf0); !bytes.HasPrefix(bin[0xfff0:], rv) {
		t.Errorf("reset vector % x, want ljmp $0xf000, $start-0xf0000 (% x)", bin[0xfff0:0xfff5], rv)
	}
	return bin, byName
}

// TestModesSymbolFile checks that modes.elf holds the bytes of modes.bin
// and symbols at the linear addresses where the CPU runs them: the reset
// vector at 0xFFFFFFF0, everything else in the copy at 0xF0000.
func TestModesSymbolFile(t *testing.T) {
	const base = fwBase
	bin, byName := firmwareSymbols(t, "modes")
	var prev uint64
	for i, want := range modesSymbols {
		s, ok := byName[want.name]
		if !ok {
			t.Errorf("no symbol %q", want.name)
			continue
		}
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Size == 0 {
			t.Errorf("%s: type %v size %d, want a function with a size", s.Name, elf.ST_TYPE(s.Info), s.Size)
		}
		if i == 0 {
			if s.Value != 0xfffffff0 || s.Size > 16 {
				t.Errorf("reset_vector = %#x+%d, want 0xfffffff0, at most 16 bytes", s.Value, s.Size)
			}
			continue
		}
		if s.Value < base || s.Value+s.Size > base+0xfff0 {
			t.Errorf("%s = %#x+%d, outside the code at 0xf0000-0xfffef", s.Name, s.Value, s.Size)
		}
		if i > 1 && s.Value <= prev {
			t.Errorf("%s = %#x is not after %s (%#x)", s.Name, s.Value, modesSymbols[i-1].name, prev)
		}
		prev = s.Value
	}

	// The jumps between the stages go where the symbols say.
	le32 := func(v uint64) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
	for _, jmp := range []struct {
		what string
		code []byte
	}{
		{"ljmpl $0x08, $prot_mode_entry (16-bit code)", append(append([]byte{0x66, 0xea}, le32(byName["prot_mode_entry"].Value)...), 0x08, 0)},
		{"ljmp $0x18, $long_mode_entry (32-bit code)", append(append([]byte{0xea}, le32(byName["long_mode_entry"].Value)...), 0x18, 0)},
	} {
		if !bytes.Contains(bin, jmp.code) {
			t.Errorf("no %s (% x) in modes.bin", jmp.what, jmp.code)
		}
	}
	// The README's table of symbols gives these addresses.
	readme, err := os.ReadFile("modes/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range modesSymbols {
		row := fmt.Sprintf("| `%s` | %#X | %s", want.name, byName[want.name].Value, want.mode)
		row = strings.Replace(row, "0X", "0x", 1)
		if !bytes.Contains(readme, []byte(row)) {
			t.Errorf("modes/README.md has no row starting %q", row)
		}
	}

	for _, c := range []uint64{ModesRealCounter, ModesProtCounter, ModesLongCounter} {
		if c < 0x500 || c+8 > 0x7c00 {
			t.Errorf("counter %#x is not in free low RAM below the stack", c)
		}
	}
}

// demoFuncs are the demo's functions that its README's table lists, in
// the order of the table (the reset vector first).
var demoFuncs = []string{
	"reset_vector", "start", "prot_mode_entry", "main_loop", "timer_handler", "spurious_handler",
	"work_pio", "work_mmio", "work_doorbell", "work_piowindow", "work_window", "work_cpuid",
	"report", "puts", "put_dec", "putc", "setup_idt", "set_gate", "setup_pic", "setup_lapic", "setup_pit",
}

// demoVars are its 32-bit variables in RAM, from DemoTicksAddr on.
var demoVars = []string{
	"ticks", "rounds", "pio_count", "mmio_count", "doorbell_count", "piowindow_count",
	"window_count", "flush_count", "piowindow_next", "window_next", "last_tick", "next_report",
}

// TestDemoSymbolFile checks that demo.elf holds the bytes of demo.bin and
// a function symbol, with a size, for each routine, inside the image
// where the CPU runs it; that the jumps and the timer's gate go where the
// symbols say; and that the README's tables are the ELF's.
func TestDemoSymbolFile(t *testing.T) {
	bin, byName := firmwareSymbols(t, "demo")

	for _, name := range demoFuncs {
		s, ok := byName[name]
		if !ok {
			t.Errorf("no symbol %q", name)
			continue
		}
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || elf.ST_BIND(s.Info) != elf.STB_GLOBAL || s.Size == 0 {
			t.Errorf("%s: type %v bind %v size %d, want a global function with a size", name, elf.ST_TYPE(s.Info), elf.ST_BIND(s.Info), s.Size)
		}
	}
	if s := byName["reset_vector"]; s.Value != 0xfffffff0 || s.Size > 16 {
		t.Errorf("reset_vector = %#x+%d, want 0xfffffff0, at most 16 bytes", s.Value, s.Size)
	}
	// Every other function and object of the image lies in its code and
	// data, 0xf0000-0xfffef, and no two overlap.
	var inImage []elf.Symbol
	for _, s := range byName {
		typ := elf.ST_TYPE(s.Info)
		if typ != elf.STT_FUNC && typ != elf.STT_OBJECT || s.Section == elf.SHN_ABS || s.Name == "reset_vector" {
			continue
		}
		if s.Size == 0 || s.Value < fwBase || s.Value+s.Size > fwBase+0xfff0 {
			t.Errorf("%s = %#x+%d, outside the image's code and data at 0xf0000-0xfffef", s.Name, s.Value, s.Size)
		}
		inImage = append(inImage, s)
	}
	slices.SortFunc(inImage, func(a, b elf.Symbol) int { return int(a.Value) - int(b.Value) })
	for i := 1; i < len(inImage); i++ {
		if a, b := inImage[i-1], inImage[i]; a.Value+a.Size > b.Value {
			t.Errorf("%s (%#x+%d) overlaps %s (%#x)", a.Name, a.Value, a.Size, b.Name, b.Value)
		}
	}
	if len(inImage) < len(demoFuncs)-1 {
		t.Errorf("%d symbols in the image, want at least the %d functions", len(inImage), len(demoFuncs)-1)
	}

	// The variables: 4-byte objects at fixed RAM addresses below the stack.
	for i, name := range demoVars {
		s := byName[name]
		want := uint64(DemoTicksAddr + 4*i)
		if elf.ST_TYPE(s.Info) != elf.STT_OBJECT || s.Section != elf.SHN_ABS || s.Value != want || s.Size != 4 {
			t.Errorf("%s: %+v, want a 4-byte absolute object at %#x", name, s, want)
		}
		if s.Value+s.Size > 0x7c00 {
			t.Errorf("%s at %#x is not below the stack", name, s.Value)
		}
	}
	// The constants the source and package samples share.
	for _, c := range []struct {
		sym  string
		want uint64
	}{
		{"PIT_DIVISOR", DemoPITDivisor}, {"REPORT_EVERY", DemoReportTicks}, {"DATA_BASE", DemoTicksAddr},
		{"PIO_PORT", BenchPIOPort}, {"MMIO_ADDR", BenchMMIOAddr}, {"DOORBELL_PORT", BenchDoorbellPort},
		{"PIO_WINDOW", BenchPIOWindowPort}, {"WINDOW", BenchWindowAddr}, {"FLUSH_PORT", BenchFlushPort},
	} {
		if s, ok := byName[c.sym]; !ok || s.Value != c.want {
			t.Errorf("%s = %#x (found %v), want %#x", c.sym, s.Value, ok, c.want)
		}
	}
	if hz := (1193182 + DemoPITDivisor/2) / DemoPITDivisor; hz != DemoTimerHz {
		t.Errorf("PIT divisor %d gives %d Hz, want %d", DemoPITDivisor, hz, DemoTimerHz)
	}

	le32 := func(v uint64) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
	for _, code := range []struct {
		what  string
		bytes []byte
	}{
		{"ljmpl $0x08, $prot_mode_entry (16-bit code)", append(append([]byte{0x66, 0xea}, le32(byName["prot_mode_entry"].Value)...), 0x08, 0)},
		{"movl $timer_handler, %eax (the gate of vector 0x20)", append([]byte{0xb8}, le32(byName["timer_handler"].Value)...)},
		{"movl $spurious_handler, %eax (the gates of 0x21-0x2f)", append([]byte{0xb8}, le32(byName["spurious_handler"].Value)...)},
	} {
		if !bytes.Contains(bin, code.bytes) {
			t.Errorf("no %s (% x) in demo.bin", code.what, code.bytes)
		}
	}
	if pe, ml := byName["prot_mode_entry"], byName["main_loop"]; pe.Value+pe.Size != ml.Value {
		t.Errorf("prot_mode_entry (%#x+%d) does not fall through into main_loop (%#x)", pe.Value, pe.Size, ml.Value)
	}
	// The timer handler counts at DemoTicksAddr: incl ticks.
	th := byName["timer_handler"].Value - fwBase
	if want := append([]byte{0xff, 0x05}, le32(DemoTicksAddr)...); !bytes.HasPrefix(bin[th:], want) {
		t.Errorf("timer_handler starts % x, want incl %#x (% x)", bin[th:th+6], DemoTicksAddr, want)
	}

	// The README's tables give these addresses.
	readme, err := os.ReadFile("demo/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(slices.Clone(demoFuncs), demoVars...) {
		row := fmt.Sprintf("| `%s` | %#X |", name, byName[name].Value)
		row = strings.Replace(row, "0X", "0x", 1)
		if !bytes.Contains(readme, []byte(row)) {
			t.Errorf("demo/README.md has no row starting %q", row)
		}
	}
}

// TestDemoForever checks that the demo (and spin-cli, a guest gone wrong)
// and only they run until stopped: the demo promises its banner and never
// writes to port 0xf4.
func TestDemoForever(t *testing.T) {
	for _, name := range Names() {
		if out, _ := Expect(name); out.Forever != (name == "demo" || name == "spin-cli") {
			t.Errorf("Expect(%q).Forever = %v", name, out.Forever)
		}
	}
	out, _ := Expect("demo")
	if out.ExitStatus != 0 || out.TripleFault || !strings.HasPrefix(out.Serial, "demo: ") || !strings.HasSuffix(out.Serial, "\n") {
		t.Errorf("Expect(demo) = %+v, want a banner line and no exit", out)
	}
	img, _ := Image("demo")
	code := img[:0xfff0]
	for _, want := range []string{out.Serial, "demo: tick ", ", pio ", ", mmio "} {
		if !bytes.Contains(code, []byte(want+"\x00")) {
			t.Errorf("demo.bin does not hold %q", want)
		}
	}
	// No out %al, $0xf4 and no 0xf4 loaded into %dx.
	for _, exit := range [][]byte{{0xe6, 0xf4}, {0xe7, 0xf4}, {0x66, 0xba, 0xf4, 0x00}, {0xba, 0xf4, 0x00, 0x00, 0x00}} {
		if bytes.Contains(code, exit) {
			t.Errorf("demo.bin holds % x: a write to the debug-exit port?", exit)
		}
	}
	if d := Describe("demo"); !strings.Contains(d, "runs until stopped") {
		t.Errorf("Describe(demo) = %q does not say it runs until stopped", d)
	}
}

func TestSymbolFile(t *testing.T) {
	// An ELF sample is its own symbol file.
	img, _ := Image("hello")
	sym, err := SymbolFile("hello")
	if err != nil || !bytes.Equal(sym, img) {
		t.Errorf("SymbolFile(hello): %v, same bytes as the image: %v", err, bytes.Equal(sym, img))
	}
	for _, name := range append([]string{"fw-realmode"}, benchNames...) {
		if _, err := SymbolFile(name); !errors.Is(err, ErrNoSymbols) {
			t.Errorf("SymbolFile(%q): %v, want ErrNoSymbols", name, err)
		}
	}
	for _, name := range []string{"nope", "", "modes.elf", "build/modes"} {
		if _, err := SymbolFile(name); err == nil || errors.Is(err, ErrNoSymbols) || !strings.Contains(err.Error(), "modes") {
			t.Errorf("SymbolFile(%q): %v, want an error listing the samples", name, err)
		}
	}
	// A fresh copy each time.
	a, _ := SymbolFile("modes")
	a[0] ^= 0xff
	if b, _ := SymbolFile("modes"); a[0] == b[0] {
		t.Error("SymbolFile returned shared bytes")
	}
}

func TestBenchIterations(t *testing.T) {
	for _, name := range benchNames {
		t.Run(name, func(t *testing.T) {
			img, err := Image(name)
			if err != nil {
				t.Fatal(err)
			}
			// jmp start (EB rel8) over the magic and the count.
			if img[0] != 0xeb || int(img[1])+2 != BenchIterationsOffset+8 {
				t.Errorf("image starts with % x, want a short jmp to %#x", img[:2], BenchIterationsOffset+8)
			}
			if got := string(img[BenchMagicOffset:BenchIterationsOffset]); got != BenchIterationsMagic {
				t.Fatalf("magic %q, want %q", got, BenchIterationsMagic)
			}
			want := uint64(BenchDefaultIterations)
			if name == "bench-hlt" {
				want = BenchHLTDefaultTicks
			}
			n := binary.LittleEndian.Uint64(img[BenchIterationsOffset:])
			if n != want {
				t.Errorf("N = %d, want %d", n, want)
			}
			if d := Describe(name); !strings.Contains(d, fmt.Sprintf("N (%d, at %#x)", want, BenchIterationsAddr)) {
				t.Errorf("Describe(%q) = %q does not give N's default and address", name, d)
			}

			for _, n := range []uint64{0, 1, 7, 1 << 32, 1<<64 - 1} {
				patched, err := PatchIterations(img, n)
				if err != nil {
					t.Fatal(err)
				}
				if got := binary.LittleEndian.Uint64(patched[BenchIterationsOffset:]); got != n {
					t.Errorf("patched N = %d, want %d", got, n)
				}
				back, err := PatchIterations(patched, want)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(back, img) {
					t.Errorf("patching %d and back changed more than the count", n)
				}
			}
			if again, _ := Image(name); !bytes.Equal(again, img) {
				t.Error("PatchIterations changed the image it was given")
			}
		})
	}

	for _, name := range []string{"fw-realmode", "modes", "demo", "hello", "pio-loop"} {
		img, _ := Image(name)
		if _, err := PatchIterations(img, 1); err == nil {
			t.Errorf("PatchIterations(%s): no error", name)
		}
	}
	bench, _ := Image("bench-pio")
	for _, img := range [][]byte{nil, bench[:BenchIterationsOffset+7], []byte(BenchIterationsMagic)} {
		if _, err := PatchIterations(img, 1); err == nil {
			t.Errorf("PatchIterations(%d bytes): no error", len(img))
		}
	}
}

// TestBenchWindows checks that the window workloads write where the
// constants say: their start address or port and the flush port are
// immediates in the code (mov $imm32, %ebx; mov $imm16, %dx).
func TestBenchWindows(t *testing.T) {
	movEBX := func(v uint32) []byte { return binary.LittleEndian.AppendUint32([]byte{0xbb}, v) }
	movDX := func(v uint16) []byte { return binary.LittleEndian.AppendUint16([]byte{0x66, 0xba}, v) }
	for _, c := range []struct {
		name  string
		start []byte
		limit []byte // cmp $imm32, %ebx: the end of the window
	}{
		{"bench-window", movEBX(BenchWindowAddr), binary.LittleEndian.AppendUint32([]byte{0x81, 0xfb}, BenchWindowAddr+BenchWindowSize)},
		{"bench-piowindow", movEBX(BenchPIOWindowPort), binary.LittleEndian.AppendUint32([]byte{0x81, 0xfb}, BenchPIOWindowPort+BenchPIOWindowSize)},
	} {
		img, err := Image(c.name)
		if err != nil {
			t.Fatal(err)
		}
		code := img[:0xfff0]
		for _, want := range [][]byte{c.start, c.limit, movDX(BenchFlushPort)} {
			if !bytes.Contains(code, want) {
				t.Errorf("%s: no % x in the code", c.name, want)
			}
		}
	}
}

// kut-mini prints its output in pieces: each line's words must be in it.
func TestKUTMiniStrings(t *testing.T) {
	img, _ := Image("kut-mini")
	for _, s := range []string{"kut-mini: multiboot magic ok\n\x00", "kut-mini: fw_cfg says \x00", " cpus\n\x00",
		"PASS: \x00", "testdev read-back\n\x00", "pm timer advances\n\x00", "SUMMARY: \x00", " unexpected failures\n\x00"} {
		if !bytes.Contains(img, []byte(s)) {
			t.Errorf("kut-mini does not hold %q", s)
		}
	}
	if !strings.Contains(KUTConfig, "file = kut-mini.flat") {
		t.Errorf("KUTConfig does not run kut-mini.flat:\n%s", KUTConfig)
	}
}

// TestBuildIsReproducible rebuilds the images from the sources into a
// temporary directory and checks they are byte for byte the embedded ones.
func TestBuildIsReproducible(t *testing.T) {
	for _, tool := range []string{"make", "as", "ld", "objcopy"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("cannot check the committed images against their sources: %s (GNU make/binutils) is not installed", tool)
		}
	}
	// Read the inputs so that go test's cache is invalidated when they change.
	inputs, _ := filepath.Glob("*/*.s")
	for _, p := range append(inputs, "Makefile", "elf.ld", "fw.ld") {
		if _, err := os.ReadFile(p); err != nil {
			t.Fatal(err)
		}
	}

	tmp := t.TempDir()
	out := filepath.Join(tmp, "build")
	cmd := exec.Command("make", "--no-print-directory", "BUILD="+out, "OBJ="+filepath.Join(tmp, "obj"))
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make: %v\n%s", err, msg)
	}

	built, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range built {
		got = append(got, e.Name())
		want, err := images.ReadFile("build/" + e.Name())
		if err != nil {
			t.Errorf("make built %s, which is not committed in build/", e.Name())
			continue
		}
		have, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(have, want) {
			t.Errorf("build/%s differs from what the sources build: run make -C samples and commit build/", e.Name())
		}
	}
	committed, _ := images.ReadDir("build")
	if n := len(committed); n != len(got) {
		t.Errorf("make built %q, but %d files are committed in build/", got, n)
	}
}
