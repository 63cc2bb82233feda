package gdbstub

import (
	"encoding/xml"
	"strings"
	"testing"
)

// TestRegisterTable checks the table: names unique, sizes whole bytes,
// and gdb's required registers in their places.
func TestRegisterTable(t *testing.T) {
	seen := map[string]bool{}
	for i, g := range registers {
		if seen[g.name] {
			t.Errorf("register %q twice", g.name)
		}
		seen[g.name] = true
		if g.bits%8 != 0 || g.bits == 0 || g.bits > 128 {
			t.Errorf("%s: %d bits", g.name, g.bits)
		}
		if g.get == nil || g.set == nil {
			t.Errorf("%s (%d): no accessor", g.name, i)
		}
	}
	for name, want := range map[string]int{"rax": 0, "rsp": 7, "r15": 15, "rip": 16, "eflags": 17, "cs": 18, "gs": 23,
		"st0": 24, "fop": 39, "xmm0": 40, "mxcsr": 56, "fs_base": 57, "gs_base": 58, "k_gs_base": 59, "cr0": 60, "efer": 65,
		"cs_base": 66, "dr7": 99} {
		if got := regNumber(name); got != want {
			t.Errorf("%s is register %d, want %d", name, got, want)
		}
	}
	if len(registers) != 100 || regsSize != 800 {
		t.Errorf("%d registers, %d bytes", len(registers), regsSize)
	}
	if 2*regsSize > minPacketSize {
		t.Errorf("a g reply (%d) does not fit the smallest packet (%d)", 2*regsSize, minPacketSize)
	}
}

// TestGReplySizeAllModes: the g reply has the same size in every mode.
func TestGReplySizeAllModes(t *testing.T) {
	f := newFake(1)
	base := len(encodeRegs(nil, &f.regs[0]))
	f.setReal(0, 0xf000, 0xfff0)
	if n := len(encodeRegs(nil, &f.regs[0])); n != base || n != 2*regsSize {
		t.Fatalf("g reply %d in real mode, %d in long mode", n, base)
	}
}

type xmlFeature struct {
	Name string `xml:"name,attr"`
	Regs []struct {
		Name    string `xml:"name,attr"`
		Bitsize int    `xml:"bitsize,attr"`
		Type    string `xml:"type,attr"`
		Regnum  int    `xml:"regnum,attr"`
	} `xml:"reg"`
}

func TestTargetDescription(t *testing.T) {
	var target struct {
		Arch     string `xml:"architecture"`
		Includes []struct {
			Href string `xml:"href,attr"`
		} `xml:"include"`
	}
	if err := xml.Unmarshal([]byte(descFiles["target.xml"]), &target); err != nil {
		t.Fatal(err)
	}
	if target.Arch != "i386:x86-64" {
		t.Errorf("architecture %q", target.Arch)
	}
	next := 0
	names := map[string]bool{}
	for _, inc := range target.Includes {
		doc, ok := descFiles[inc.Href]
		if !ok {
			t.Fatalf("target.xml includes %q, which is not served", inc.Href)
		}
		var f xmlFeature
		if err := xml.Unmarshal([]byte(doc), &f); err != nil {
			t.Fatalf("%s: %v", inc.Href, err)
		}
		names[f.Name] = true
		for _, r := range f.Regs {
			if r.Regnum != next {
				t.Errorf("%s: %s has regnum %d, want %d", inc.Href, r.Name, r.Regnum, next)
			}
			g := registers[r.Regnum]
			if g.name != r.Name || g.bits != r.Bitsize || g.typ != r.Type {
				t.Errorf("%s: %+v differs from the table's %s", inc.Href, r, g.name)
			}
			if !strings.HasPrefix(r.Type, "int") && !strings.HasPrefix(r.Type, "uint") && !strings.Contains(doc, `id="`+r.Type+`"`) &&
				!map[string]bool{"code_ptr": true, "data_ptr": true, "i387_ext": true}[r.Type] {
				t.Errorf("%s: type %q of %s is not defined", inc.Href, r.Type, r.Name)
			}
			next++
		}
	}
	if next != len(registers) {
		t.Errorf("the description has %d registers, the table %d", next, len(registers))
	}
	for _, want := range []string{"org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.segments", "org.kvmscope.x86.state"} {
		if !names[want] {
			t.Errorf("no feature %s", want)
		}
	}
}

func TestSegAttrRoundTrip(t *testing.T) {
	f := newFake(1)
	r := &f.regs[0]
	for a := uint32(0); a < 1<<17; a += 0x1111 {
		want := a & 0x1f0ff
		setSegAttr(&r.Sregs.TR, want)
		if got := segAttr(&r.Sregs.TR); got != want {
			t.Fatalf("attr %#x read back as %#x", want, got)
		}
	}
}
