package symbols

import (
	"bytes"
	"cmp"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/debug/symbols/kimage"
	"github.com/kvmscope/kvmscope/internal/kvmbox"
)

// kallsymsLayout says how buildKallsyms lays the tables out.
type kallsymsLayout struct {
	after    bool // offsets after the token index (6.4+), not before num_syms
	seqs     bool // kallsyms_seqs_of_names between markers and token table (6.2+, Debian 6.1)
	absolute bool // kallsyms_addresses (no CONFIG_KALLSYMS_BASE_RELATIVE)
	percpu   bool // CONFIG_KALLSYMS_ABSOLUTE_PERCPU: syms below base are stored as non-negative offsets
}

// buildKallsyms writes kallsyms tables for syms (sorted by address) as
// scripts/kallsyms.c does on 64-bit, between some junk. Its token table
// is the trivial one: token c is the character c where printable, so a
// name is its own characters.
func buildKallsyms(syms []Symbol, base uint64, l kallsymsLayout) []byte {
	le := binary.LittleEndian
	var b []byte
	align := func() {
		for len(b)%8 != 0 {
			b = append(b, 0)
		}
	}
	b = append(b, "some rodata before the tables\x00\x01\x02"...)
	align()
	n := len(syms)
	addrs := func() {
		if l.absolute {
			for _, s := range syms {
				b = le.AppendUint64(b, s.Addr)
			}
			align()
			return
		}
		for _, s := range syms {
			var off int32
			switch {
			case l.percpu && s.Addr < base:
				off = int32(s.Addr)
			case l.percpu:
				off = int32(-1 - int64(s.Addr-base))
			default:
				off = int32(uint32(s.Addr - base))
			}
			b = le.AppendUint32(b, uint32(off))
		}
		align()
		b = le.AppendUint64(b, base)
	}
	if !l.after {
		addrs()
	}
	b = le.AppendUint32(b, uint32(n))
	align()
	names := len(b)
	var markers []uint32
	for i, s := range syms {
		if i%256 == 0 {
			markers = append(markers, uint32(len(b)-names))
		}
		rec := string(s.Kind) + s.Name
		if len(rec) > 0x7f {
			b = append(b, byte(len(rec)&0x7f|0x80), byte(len(rec)>>7))
		} else {
			b = append(b, byte(len(rec)))
		}
		b = append(b, rec...)
	}
	align()
	for _, m := range markers {
		b = le.AppendUint32(b, m)
	}
	align()
	if l.seqs {
		for i := range n {
			b = append(b, byte(i>>16), byte(i>>8), byte(i))
		}
		align()
	}
	table := len(b)
	var index []uint16
	for c := range 256 {
		index = append(index, uint16(len(b)-table))
		if c > ' ' && c < 0x7f {
			b = append(b, byte(c), 0)
		} else {
			b = append(b, '~', byte('A'+c%26), 0)
		}
	}
	align()
	for _, x := range index {
		b = le.AppendUint16(b, x)
	}
	align()
	if l.after {
		addrs()
	}
	return append(b, "and more rodata after them, 0123456789"...)
}

// testSyms makes n symbols: a few per-CPU ones below base, then text
// and data above it, one with a name longer than 127 characters.
func testSyms(n int, base uint64) []Symbol {
	var syms []Symbol
	for i := range n {
		s := Symbol{Name: fmt.Sprintf("sym_%d", i), Kind: "TtDdRrBb"[i%8], Addr: base + uint64(i)*16}
		switch {
		case i < 3 && n > 3:
			s.Kind, s.Addr = 'A', uint64(i)*0x1000
		case i == n/2:
			s.Name = "long_" + string(bytes.Repeat([]byte("x"), 200))
		case i%7 == 0 && i > 3:
			s.Addr = syms[i-1].Addr // aliases share an address
		}
		syms = append(syms, s)
	}
	return syms
}

func TestKallsymsLayouts(t *testing.T) {
	const base = 0xffffffff81000000
	for _, n := range []int{kallsymsMinSyms, 255, 256, 257, 3000} {
		for _, l := range []kallsymsLayout{
			{percpu: true, seqs: true},  // Debian's 6.1
			{percpu: true},              // 4.20-6.1
			{},                          // base-relative without absolute per-CPU
			{absolute: true},            // no base-relative
			{after: true, percpu: true}, // 6.4+: offsets after the token index
			{after: true, percpu: true, seqs: true},
			{after: true, absolute: true},
		} {
			t.Run(fmt.Sprintf("%d/%+v", n, l), func(t *testing.T) {
				syms := testSyms(n, base)
				if !l.percpu && !l.absolute { // every address above base
					for i := range syms {
						if syms[i].Addr < base {
							syms[i].Addr, syms[i].Kind = base, 'T'
						}
					}
				}
				k, err := ParseKallsyms(buildKallsyms(syms, base, l))
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(k.Syms, syms) {
					t.Fatalf("got %d symbols %v..., want %d %v...", len(k.Syms), k.Syms[:min(4, len(k.Syms))], len(syms), syms[:min(4, len(syms))])
				}
				if l.percpu && k.AbsolutePercpu != (n > 3) || !l.absolute && k.RelativeBase != base {
					t.Errorf("percpu %v base %#x", k.AbsolutePercpu, k.RelativeBase)
				}
			})
		}
	}
}

// Cut or damaged tables give ErrNoKallsyms, never a panic or a wrong
// table taken for right.
func TestKallsymsBadInput(t *testing.T) {
	const base = 0xffffffff81000000
	syms := testSyms(1000, base)
	img := buildKallsyms(syms, base, kallsymsLayout{percpu: true, seqs: true})
	if _, err := ParseKallsyms(nil); !errors.Is(err, ErrNoKallsyms) {
		t.Errorf("empty: %v", err)
	}
	for n := 0; n < len(img); n += 97 {
		for _, cut := range [][]byte{img[:n], img[n:]} {
			k, err := ParseKallsyms(cut)
			if err == nil && !slices.Equal(k.Syms, syms) {
				t.Fatalf("cut at %d: %d wrong symbols, no error", n, len(k.Syms))
			}
		}
	}
	// A marker off by one, the symbol count off by one, unsorted offsets.
	le := binary.LittleEndian
	names := bytes.Index(img, []byte("\x06Asym_0"))
	for name, patch := range map[string]func(b []byte){
		"marker": func(b []byte) {
			m1 := uint32(bytes.Index(b, []byte("sym_256")) - 2 - names)
			i := bytes.Index(b, le.AppendUint32(le.AppendUint32(nil, 0), m1))
			le.PutUint32(b[i+4:], m1+1)
		},
		"num_syms": func(b []byte) { le.PutUint32(b[names-8:], 1001) },
		"sorted":   func(b []byte) { le.PutUint32(b[names-16-8*500:], 0x7fffffff) },
	} {
		bad := append([]byte(nil), img...)
		patch(bad)
		if k, err := ParseKallsyms(bad); err == nil && !slices.Equal(k.Syms, syms) {
			t.Errorf("%s: wrong table, no error", name)
		}
	}
	if _, err := ParseKallsyms(bytes.Repeat([]byte("0\x001\x002\x003\x004\x005\x006\x007\x008\x009\x00"), 100)); !errors.Is(err, ErrNoKallsyms) {
		t.Errorf("digits only: %v", err)
	}
}

func FuzzKallsyms(f *testing.F) {
	const base = 0xffffffff81000000
	f.Add(buildKallsyms(testSyms(300, base), base, kallsymsLayout{percpu: true, seqs: true}))
	f.Add(buildKallsyms(testSyms(20, base), base, kallsymsLayout{absolute: true, after: true}))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseKallsyms(data)
		if err != nil {
			return
		}
		if len(k.Syms) == 0 || !slices.IsSortedFunc(k.Syms, func(a, b Symbol) int { return cmp.Compare(a.Addr, b.Addr) }) {
			t.Fatalf("%d symbols, unsorted or none", len(k.Syms))
		}
	})
}

// The Debian kernel that `kvmbox setup` fetched: kallsyms recovered from
// its vmlinux (what its bzImage unpacks to, as kimage's TestDebianKernel
// checks; unpacking it here again would cost a minute under -race);
// every text symbol lies in an executable segment of the (stripped)
// vmlinux, and the symbols /proc/kallsyms shows first are there.
func TestKallsymsDebianKernel(t *testing.T) {
	c := kvmbox.Cache{Dir: kvmbox.Dir()}
	kver, err := c.KernelVersion()
	if err != nil {
		t.Skipf("needs the Debian kernel that `bin/kvmbox setup` fetches: %v", err)
	}
	vmlinux, err := os.ReadFile(c.Vmlinux(kver))
	if err != nil {
		t.Skipf("needs the Debian kernel that `bin/kvmbox setup` fetches: %v", err)
	}
	start := time.Now()
	im, err := kimage.Open(vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	unpacked := time.Since(start)
	k, err := ParseKallsyms(im.Data)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %s, %d bytes in %v; %d symbols in %v (%s, relative base %#x, absolute per-CPU %v)",
		c.Vmlinux(kver), im, len(im.Data), unpacked, len(k.Syms), time.Since(start)-unpacked, k.Layout, k.RelativeBase, k.AbsolutePercpu)
	if len(k.Syms) < 50000 || k.RelativeBase != 0xffffffff81000000 || !k.AbsolutePercpu {
		t.Errorf("want >50000 symbols, base 0xffffffff81000000, absolute per-CPU")
	}
	tab := New(k.Syms)
	for name, kind := range map[string]byte{"_text": 'T', "startup_64": 'T', "start_kernel": 'T', "linux_banner": 'D', "jiffies_64": 'D', "init_task": 'D', "fixed_percpu_data": 'A'} {
		if s, ok := tab.Lookup(name); !ok || s.Kind != kind {
			t.Errorf("%s: %+v %v, want type %c", name, s, ok, kind)
		}
	}
	if s, _ := tab.Lookup("_text"); s.Addr != 0xffffffff81000000 {
		t.Errorf("_text at %#x", s.Addr)
	}
	f, err := elf.NewFile(bytes.NewReader(im.Data))
	if err != nil {
		t.Fatal(err)
	}
	text := 0
	for _, s := range k.Syms {
		if s.Kind != 't' && s.Kind != 'T' {
			continue
		}
		text++
		in := false
		for _, p := range f.Progs {
			in = in || p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && s.Addr >= p.Vaddr && s.Addr <= p.Vaddr+p.Memsz
		}
		if !in {
			t.Errorf("text symbol %s at %#x is in no executable segment", s.Name, s.Addr)
			break
		}
	}
	// linux_banner's bytes in the image are the banner.
	s, _ := tab.Lookup("linux_banner")
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && s.Addr >= p.Vaddr && s.Addr < p.Vaddr+p.Filesz {
			b := im.Data[p.Off+s.Addr-p.Vaddr:][:14]
			if string(b) != "Linux version " {
				t.Errorf("linux_banner holds %q", b)
			}
		}
	}
	t.Logf("%d text symbols, all in executable segments", text)

	// KASLR: the image's banner, found 5 steps up in a fake guest.
	banner, err := ImageBytes(im.Data, s.Addr, 64)
	if err != nil {
		t.Fatal(err)
	}
	const slid = 5 * X86SlideAlign
	read := func(addr uint64, buf []byte) (int, error) {
		if addr != s.Addr+slid {
			return copy(buf, "Linux version 0 (not here)"), nil
		}
		return copy(buf, banner), nil
	}
	if slide, err := KernelSlide(read, im.Data, tab); err != nil || slide != slid {
		t.Errorf("KernelSlide = %#x, %v; want %#x", slide, err, slid)
	}
}
