package debug

import (
	"sync"

	"github.com/kvmscope/kvmscope/debug/symbols"
)

// Symbols is the session's symbol table (Options.Symbols, or the last
// SetSymbols), nil when the guest has none. A nil table names nothing and
// resolves only numbers. For a kernel given with SetKernelSymbols, the
// table is moved to where KASLR put the kernel at the first stop that
// finds it in memory; until then it is the link-time one.
func (s *Session) Symbols() *symbols.Table {
	if k := s.kaslr.Load(); k != nil && s.Stopped() {
		s.findSlide(k)
	}
	return s.syms.Load()
}

// SetSymbols gives the session its symbols while it runs: a kernel's are
// recovered from its image in the background (seconds, most of a minute
// under emulation), and the guest need not wait for them.
func (s *Session) SetSymbols(t *symbols.Table) {
	s.kaslr.Store(nil)
	s.syms.Store(t)
}

// SetKernelSymbols gives the session a kernel's link-time symbols and its
// linux_banner bytes (symbols.Kernel.Banner), by which the session finds
// the kernel's KASLR slide in guest memory once it runs there.
func (s *Session) SetKernelSymbols(t *symbols.Table, banner []byte) {
	s.syms.Store(t)
	if t != nil && len(banner) > 0 {
		s.kaslr.Store(&kaslrSearch{table: t, banner: banner})
	}
}

// kaslrSearch is a kernel whose slide is not known yet.
type kaslrSearch struct {
	mu     sync.Mutex
	table  *symbols.Table
	banner []byte
}

// findSlide looks for the kernel's banner through vCPU 0's page tables;
// before the kernel has mapped itself it is nowhere, and a later stop
// tries again.
func (s *Session) findSlide(k *kaslrSearch) {
	if !k.mu.TryLock() {
		return
	}
	defer k.mu.Unlock()
	b, ok := k.table.Lookup("linux_banner")
	if !ok {
		s.kaslr.CompareAndSwap(k, nil)
		return
	}
	read := func(addr uint64, buf []byte) (int, error) { return s.ReadVirtual(0, addr, buf) }
	slide, err := symbols.FindSlide(read, b.Addr, k.banner, symbols.X86SlideAlign, symbols.X86SlideSpan)
	if err != nil {
		return
	}
	if s.kaslr.CompareAndSwap(k, nil) && slide != 0 {
		s.syms.Store(k.table.Slid(slide))
	}
}

// Symbol names addr: a Symbolizer for Disassemble and the fault report.
func (s *Session) Symbol(addr uint64) (name string, base uint64, ok bool) {
	return s.Symbols().At(addr)
}
