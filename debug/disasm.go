package debug

import (
	"encoding/hex"
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// Symbolizer names an address: the symbol containing it and its start,
// or ok false. A nil Symbolizer names nothing.
type Symbolizer func(addr uint64) (name string, base uint64, ok bool)

// Line is one disassembled instruction.
type Line struct {
	Addr  uint64
	Bytes []byte
	Text  string // AT&T syntax, as objdump and gdb print it
	Err   error  // the bytes do not decode
}

func (l Line) String() string {
	return fmt.Sprintf("%#x: %-20s %s", l.Addr, hex.EncodeToString(l.Bytes), l.Text)
}

// Disassemble decodes up to n instructions from code, which sits at addr,
// in a mode of the given bits (16, 32 or 64). An undecodable byte becomes
// a "(bad)" line of one byte, as objdump prints it, and decoding goes on.
func Disassemble(code []byte, addr uint64, bits, n int, sym Symbolizer) []Line {
	var out []Line
	for off := 0; off < len(code) && len(out) < n; {
		inst, err := x86asm.Decode(code[off:], bits)
		if err != nil || inst.Len == 0 {
			out = append(out, Line{Addr: addr + uint64(off), Bytes: code[off : off+1], Text: "(bad)", Err: err})
			off++
			continue
		}
		pc := addr + uint64(off)
		text := x86asm.GNUSyntax(inst, pc, x86asmSymname(sym))
		out = append(out, Line{Addr: pc, Bytes: code[off : off+inst.Len], Text: text})
		off += inst.Len
	}
	return out
}

func x86asmSymname(sym Symbolizer) x86asm.SymLookup {
	if sym == nil {
		return nil
	}
	return func(addr uint64) (string, uint64) {
		name, base, ok := sym(addr)
		if !ok {
			return "", 0
		}
		return name, base
	}
}
