package symbols

import (
	"errors"
	"testing"
)

// fakeMemory is guest memory with a few 2 MiB pages mapped.
type fakeMemory map[uint64][]byte // page base → bytes

func (m fakeMemory) read(addr uint64, buf []byte) (int, error) {
	page, ok := m[addr&^(X86SlideAlign-1)]
	if !ok {
		return 0, errors.New("not mapped")
	}
	return copy(buf, page[addr&(X86SlideAlign-1):]), nil
}

func TestFindSlide(t *testing.T) {
	const link = 0xffffffff82000100
	banner := []byte("Linux version 6.1.0-test (someone@example) #1 SMP")
	page := func(b []byte) []byte {
		p := make([]byte, X86SlideAlign)
		copy(p[link&(X86SlideAlign-1):], b)
		return p
	}
	mem := fakeMemory{
		(link &^ (X86SlideAlign - 1)) + 2*X86SlideAlign:  page([]byte("Linux version 5.10 (not this one)")),
		(link &^ (X86SlideAlign - 1)) + 7*X86SlideAlign:  page(banner),
		(link &^ (X86SlideAlign - 1)) + 40*X86SlideAlign: page(banner), // a copy further up: the first wins
	}
	slide, err := FindSlide(mem.read, link, banner, X86SlideAlign, X86SlideSpan)
	if err != nil || slide != 7*X86SlideAlign {
		t.Fatalf("slide %#x, %v; want %#x", slide, err, 7*X86SlideAlign)
	}
	// nokaslr: at the link address itself.
	mem[link&^(X86SlideAlign-1)] = page(banner)
	if slide, err := FindSlide(mem.read, link, banner, X86SlideAlign, X86SlideSpan); err != nil || slide != 0 {
		t.Errorf("slide %#x, %v; want 0", slide, err)
	}
	if _, err := FindSlide(mem.read, link, []byte("Linux version 7"), X86SlideAlign, X86SlideSpan); err == nil {
		t.Error("found bytes that are nowhere")
	}
	if _, err := FindSlide(mem.read, link, nil, X86SlideAlign, X86SlideSpan); err == nil {
		t.Error("found nothing")
	}

	tab := New([]Symbol{{Name: "start_kernel", Addr: 0xffffffff83000000, Kind: 'T'}, {Name: "fixed_percpu_data", Addr: 0, Kind: 'A'}})
	moved := tab.Slid(7 * X86SlideAlign)
	if s, _ := moved.Lookup("start_kernel"); s.Addr != 0xffffffff83000000+7*X86SlideAlign {
		t.Errorf("start_kernel slid to %#x", s.Addr)
	}
	if s, _ := moved.Lookup("fixed_percpu_data"); s.Addr != 0 {
		t.Errorf("per-CPU symbol moved to %#x", s.Addr)
	}
}
