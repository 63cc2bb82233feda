package debug

import "github.com/kvmscope/kvmscope/debug/symbols"

// Symbols is the session's symbol table (Options.Symbols, or the last
// SetSymbols), nil when the guest has none. A nil table names nothing and
// resolves only numbers.
func (s *Session) Symbols() *symbols.Table { return s.syms.Load() }

// SetSymbols gives the session its symbols while it runs: a kernel's are
// recovered from its image in the background (seconds, most of a minute
// under emulation), and the guest need not wait for them.
func (s *Session) SetSymbols(t *symbols.Table) { s.syms.Store(t) }

// Symbol names addr: a Symbolizer for Disassemble and the fault report.
func (s *Session) Symbol(addr uint64) (name string, base uint64, ok bool) {
	return s.Symbols().At(addr)
}
