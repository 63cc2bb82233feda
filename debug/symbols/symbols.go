// Package symbols maps guest addresses to names and back, from an ELF
// symbol table, a System.map, or — for kernels shipped with neither, as
// distributions ship them — the kallsyms tables inside the kernel image
// itself (kallsyms.go, with kimage to unpack a bzImage), so that code
// shows as func+0x12.
package symbols

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Symbol is one named address. Size is 0 when the source does not say.
type Symbol struct {
	Name string
	Addr uint64
	Size uint64
	Kind byte // System.map type letter ('T' text, 'D' data, ...), or 'T'/'D' from ELF
}

// Table is a sorted set of symbols.
type Table struct {
	syms   []Symbol // by Addr, then Name
	byName map[string]int
}

// New builds a table from symbols in any order.
func New(syms []Symbol) *Table {
	t := &Table{syms: append([]Symbol(nil), syms...), byName: make(map[string]int, len(syms))}
	sort.SliceStable(t.syms, func(i, j int) bool {
		if t.syms[i].Addr != t.syms[j].Addr {
			return t.syms[i].Addr < t.syms[j].Addr
		}
		return t.syms[i].Name < t.syms[j].Name
	})
	for i, s := range t.syms {
		if _, dup := t.byName[s.Name]; !dup {
			t.byName[s.Name] = i
		}
	}
	return t
}

// Len is the number of symbols.
func (t *Table) Len() int { return len(t.syms) }

// Symbols returns the symbols sorted by address.
func (t *Table) Symbols() []Symbol { return t.syms }

// Lookup resolves a name.
func (t *Table) Lookup(name string) (Symbol, bool) {
	if t == nil {
		return Symbol{}, false
	}
	i, ok := t.byName[name]
	if !ok {
		return Symbol{}, false
	}
	return t.syms[i], true
}

// maxGap bounds how far past a symbol of unknown size an address may lie
// and still be named after it.
const maxGap = 1 << 20

// At names the symbol containing addr: the closest one at or below it,
// within its size when known. This is debug.Symbolizer's shape.
func (t *Table) At(addr uint64) (name string, base uint64, ok bool) {
	if t == nil || len(t.syms) == 0 {
		return "", 0, false
	}
	i := sort.Search(len(t.syms), func(i int) bool { return t.syms[i].Addr > addr }) - 1
	if i < 0 {
		return "", 0, false
	}
	s := t.syms[i]
	if s.Size != 0 && addr-s.Addr >= s.Size || s.Size == 0 && addr-s.Addr >= maxGap {
		return "", 0, false
	}
	return s.Name, s.Addr, true
}

// Format prints addr as name+0xoff, or the bare address.
func (t *Table) Format(addr uint64) string {
	name, base, ok := t.At(addr)
	switch {
	case !ok:
		return fmt.Sprintf("%#x", addr)
	case addr == base:
		return name
	}
	return fmt.Sprintf("%s+%#x", name, addr-base)
}

// Resolve turns what a person types — a name, name+off, or a number
// (0x hex or decimal) — into an address.
func (t *Table) Resolve(expr string) (uint64, error) {
	expr = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(expr), "*"))
	if v, err := strconv.ParseUint(expr, 0, 64); err == nil {
		return v, nil
	}
	name, off := expr, uint64(0)
	if i := strings.LastIndexByte(expr, '+'); i > 0 {
		o, err := strconv.ParseUint(strings.TrimSpace(expr[i+1:]), 0, 64)
		if err != nil {
			return 0, fmt.Errorf("%q: bad offset: %w", expr, err)
		}
		name, off = strings.TrimSpace(expr[:i]), o
	}
	s, ok := t.Lookup(name)
	if !ok {
		return 0, fmt.Errorf("no symbol %q", name)
	}
	return s.Addr + off, nil
}

// FromELF reads the symbol table of an ELF file (functions and objects
// with addresses).
func FromELF(data []byte) (*Table, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("ELF symbols: %w", err)
	}
	defer f.Close()
	esyms, err := f.Symbols()
	if err != nil {
		if errors.Is(err, elf.ErrNoSymbols) {
			return nil, errors.New("ELF symbols: the file has no symbol table (stripped?)")
		}
		return nil, fmt.Errorf("ELF symbols: %w", err)
	}
	var syms []Symbol
	for _, s := range esyms {
		typ := elf.ST_TYPE(s.Info)
		if s.Name == "" || s.Section == elf.SHN_UNDEF || typ == elf.STT_SECTION || typ == elf.STT_FILE {
			continue
		}
		kind := byte('T')
		if typ == elf.STT_OBJECT {
			kind = 'D'
		}
		syms = append(syms, Symbol{Name: s.Name, Addr: s.Value, Size: s.Size, Kind: kind})
	}
	return New(syms), nil
}

// placeholderPrefix starts the one-line System.map that Debian's kernel
// packages ship instead of the real one.
const placeholderPrefix = "ffffffffffffffff B The real System.map is in"

// ErrPlaceholder says a System.map is Debian's placeholder, not a map.
var ErrPlaceholder = errors.New("this System.map is a placeholder (the real one is in the -dbg package)")

// FromSystemMap reads "ADDR TYPE NAME" lines as nm and the kernel build
// write them.
func FromSystemMap(data []byte) (*Table, error) {
	if bytes.HasPrefix(data, []byte(placeholderPrefix)) {
		return nil, ErrPlaceholder
	}
	var syms []Symbol
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 3 || len(f[1]) != 1 {
			return nil, fmt.Errorf("System.map line %d: want \"ADDRESS TYPE NAME\", got %q", line, sc.Text())
		}
		addr, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			return nil, fmt.Errorf("System.map line %d: address %q: %w", line, f[0], err)
		}
		syms = append(syms, Symbol{Name: f[2], Addr: addr, Kind: f[1][0]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("System.map line %d: %w", line+1, err)
	}
	if len(syms) == 0 {
		return nil, errors.New("System.map: no symbols")
	}
	return New(syms), nil
}

// Load reads symbols from an ELF file or a System.map, whichever data is.
func Load(data []byte) (*Table, error) {
	if bytes.HasPrefix(data, []byte(elf.ELFMAG)) {
		return FromELF(data)
	}
	return FromSystemMap(data)
}
