package samples

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var wantNames = []string{"elf32-hello", "fw-realmode", "hello", "pio-loop", "triple-fault"}

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
			if out.Serial != "" && !bytes.Contains(img, []byte(out.Serial+"\x00")) {
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

func TestFirmware(t *testing.T) {
	img, err := Image("fw-realmode")
	if err != nil {
		t.Fatal(err)
	}
	if len(img) != 65536 {
		t.Fatalf("size %d, want 65536", len(img))
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
	if !bytes.Contains(img, []byte("fw: \x00")) {
		t.Error(`image does not hold "fw: "`)
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
	for _, p := range append(inputs, "Makefile", "elf.ld") {
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
	if n := len(Names()); n != len(got) {
		t.Errorf("make built %q, but %d images are committed", got, n)
	}
}
