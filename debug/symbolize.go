package debug

import "github.com/kvmscope/kvmscope/debug/symbols"

// Symbols is the session's symbol table (Options.Symbols), nil when the
// guest has none. A nil table names nothing and resolves only numbers.
func (s *Session) Symbols() *symbols.Table { return s.opts.Symbols }

// Symbol names addr: a Symbolizer for Disassemble and the fault report.
func (s *Session) Symbol(addr uint64) (name string, base uint64, ok bool) {
	return s.opts.Symbols.At(addr)
}
