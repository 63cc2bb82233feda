package symbols

import (
	"errors"
	"testing"

	"github.com/kvmscope/kvmscope/samples"
)

func TestSystemMap(t *testing.T) {
	tab, err := FromSystemMap([]byte("ffffffff81000000 T _stext\nffffffff81000040 T start_kernel\nffffffff82000000 D jiffies\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		addr uint64
		want string
	}{{0xffffffff81000040, "start_kernel"}, {0xffffffff81000052, "start_kernel+0x12"}, {0xffffffff80000000, "0xffffffff80000000"}} {
		if got := tab.Format(c.addr); got != c.want {
			t.Errorf("Format(%#x) = %q, want %q", c.addr, got, c.want)
		}
	}
	if a, err := tab.Resolve("start_kernel+0x10"); err != nil || a != 0xffffffff81000050 {
		t.Errorf("Resolve = %#x, %v", a, err)
	}
	if a, err := tab.Resolve("*0x1000"); err != nil || a != 0x1000 {
		t.Errorf("Resolve number = %#x, %v", a, err)
	}
	if _, err := tab.Resolve("nonesuch"); err == nil {
		t.Error("resolved a missing name")
	}
	if _, err := FromSystemMap([]byte("ffffffffffffffff B The real System.map is in the linux-image-6.1.0-56-amd64-dbg package\n")); !errors.Is(err, ErrPlaceholder) {
		t.Errorf("placeholder: %v", err)
	}
	for _, bad := range []string{"", "zz T x\n", "ffff T\n", "ffff TT x\n"} {
		if _, err := FromSystemMap([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestELF(t *testing.T) {
	img, _ := samples.Image("hello")
	tab, err := Load(img)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := tab.Lookup("puts")
	if !ok {
		t.Fatal("no puts in hello")
	}
	if got := tab.Format(s.Addr + 2); got != "puts+0x2" {
		t.Errorf("Format = %q", got)
	}
	if _, err := FromELF(img[:64]); err == nil {
		t.Error("truncated ELF accepted")
	}
}

func FuzzLoad(f *testing.F) {
	img, _ := samples.Image("hello")
	f.Add(img)
	f.Add([]byte("ffffffff81000000 T _stext\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := Load(data)
		if err != nil {
			return
		}
		for _, s := range tab.Symbols() {
			tab.Format(s.Addr + 1)
			tab.Resolve(s.Name)
		}
	})
}
