package symbols

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// A kernel built with CONFIG_KALLSYMS carries its own symbol table in
// .rodata, written by scripts/kallsyms.c and read by kernel/kallsyms.c,
// which /proc/kallsyms prints. A bzImage's kernel (and any stripped
// vmlinux) keeps it when it has lost every other symbol table, but
// without labels: the tables are found here by their shape, as
// vmlinux-to-elf and kallsyms-finder do. The tables, in the order the
// kernel build writes them (64-bit: each label aligned to 8 bytes):
//
//	kallsyms_offsets       int32 × N (or kallsyms_addresses, pointer × N)
//	kallsyms_relative_base pointer
//	kallsyms_num_syms      uint32 (a pointer before 4.20)
//	kallsyms_names         N records: a length (one byte, or two as
//	                       ULEB128 from 6.1 for long names), then that
//	                       many token numbers; the first character of the
//	                       expanded name is the nm type letter
//	kallsyms_markers       uint32 × ⌈N/256⌉: the offset in names of every
//	                       256th record
//	kallsyms_seqs_of_names 3 bytes × N (6.2, and Debian's 6.1)
//	kallsyms_token_table   256 NUL-terminated strings
//	kallsyms_token_index   uint16 × 256: each token's offset in the table
//
// Kernels from 6.4 move offsets and relative_base after the token index;
// both places are tried. The search starts from the token table, whose
// single-character tokens "0".."9" are the digits of their own numbers,
// and goes backwards to the markers, the names and the symbol count; each
// step is checked against the next, and the addresses must come out
// sorted, so that random bytes are not taken for a table.

// Kallsyms is a symbol table recovered from a kernel image.
type Kallsyms struct {
	Syms []Symbol // in the kernel's order: by address
	// RelativeBase is kallsyms_relative_base (0 for absolute addresses).
	RelativeBase uint64
	// AbsolutePercpu says that non-negative offsets are absolute
	// addresses (CONFIG_KALLSYMS_ABSOLUTE_PERCPU): the per-CPU symbols,
	// whose "addresses" are offsets into each CPU's per-CPU area.
	AbsolutePercpu bool
	// Layout says where the addresses were found: "offsets before
	// num_syms", "offsets after token_index", "addresses before
	// num_syms" or "addresses after token_index".
	Layout string
}

// ErrNoKallsyms says that an image holds no kallsyms tables.
var ErrNoKallsyms = errors.New("no kallsyms tables found")

// Bounds on what a real table looks like; they also bound the search.
const (
	// kallsymsMinSyms: a kernel has thousands of symbols; a handful
	// of sorted addresses would be too weak a sign of a table.
	kallsymsMinSyms   = 16
	kallsymsMaxSyms   = 1 << 22 // Debian's 6.1 has ~150k; allyesconfig under 1M
	kallsymsMaxRecord = 2 + 512 // a two-byte length and KSYM_NAME_LEN tokens (6.1; 128 before)
	kallsymsMaxToken  = 256     // the longest token the search follows
)

// FromKallsyms recovers the symbol table of an uncompressed kernel image
// (see kimage) from its kallsyms tables.
func FromKallsyms(image []byte) (*Table, error) {
	k, err := ParseKallsyms(image)
	if err != nil {
		return nil, err
	}
	return New(k.Syms), nil
}

// ParseKallsyms finds and decodes the kallsyms tables of an uncompressed
// kernel image.
func ParseKallsyms(image []byte) (*Kallsyms, error) {
	var firstErr error
	digits := []byte("0\x001\x002\x003\x004\x005\x006\x007\x008\x009\x00")
	for from := 0; ; {
		i := bytes.Index(image[from:], digits)
		if i < 0 {
			break
		}
		at := from + i
		from = at + 1
		tt, ok := findTokenTable(image, at)
		if !ok {
			continue
		}
		k, err := tt.decode(image)
		if err == nil {
			return k, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoKallsyms, firstErr)
	}
	return nil, ErrNoKallsyms
}

// tokenTable is a validated kallsyms_token_table and its index.
type tokenTable struct {
	start, index int // offsets of kallsyms_token_table and kallsyms_token_index
	tokens       [256][]byte
}

// findTokenTable checks whether the token "0" at digit0 belongs to a
// token table: walking forward from it to token 255, the token index must
// follow, give "0" its offset, and describe every token exactly.
func findTokenTable(image []byte, digit0 int) (*tokenTable, bool) {
	p := digit0
	for k := '0'; k < 256; k++ {
		n := bytes.IndexByte(image[p:min(len(image), p+kallsymsMaxToken)], 0)
		if n < 1 {
			return nil, false
		}
		p += n + 1
	}
	le := binary.LittleEndian
	for idx := p; idx < p+8 && idx+512 <= len(image); idx++ {
		if le.Uint16(image[idx:]) != 0 {
			continue
		}
		start := digit0 - int(le.Uint16(image[idx+2*'0':]))
		if start < 0 {
			continue
		}
		tt := &tokenTable{start: start, index: idx}
		ok := true
		for k := 0; k < 256 && ok; k++ {
			b := start + int(le.Uint16(image[idx+2*k:]))
			e := p // the end of the last token
			if k < 255 {
				e = start + int(le.Uint16(image[idx+2*k+2:]))
			}
			// token k is image[b:e-1], non-empty, NUL-terminated, no NUL inside
			ok = b < e-1 && e <= p && image[e-1] == 0 && bytes.IndexByte(image[b:e-1], 0) < 0
			if ok {
				tt.tokens[k] = image[b : e-1]
			}
		}
		if ok {
			return tt, true
		}
	}
	return nil, false
}

// decode finds the tables in front of the token table and decodes them.
func (tt *tokenTable) decode(image []byte) (*Kallsyms, error) {
	le := binary.LittleEndian
	lowest := max(0, tt.start-3*kallsymsMaxSyms-64)
	var firstErr error
	// The markers end at most 3N+7 bytes before the token table (the
	// sequence numbers lie between). Look for their first entry, 0,
	// from the token table backwards.
	for q := (tt.start - 4) &^ 3; q >= lowest; q -= 4 {
		if le.Uint32(image[q:]) != 0 {
			continue
		}
		markers := readMarkers(image, q, tt.start)
		if len(markers) == 0 {
			continue
		}
		k, err := tt.decodeAt(image, q, markers)
		if err == nil {
			return k, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = errors.New("no kallsyms_markers before the token table")
	}
	return nil, fmt.Errorf("token table at %#x: %w", tt.start, firstErr)
}

// readMarkers reads the markers that start (with 0) at q: each next one
// 512 bytes (256 records of at least 2 bytes) to 256 records of the
// longest name further. It returns nil when they cannot end before the
// token table.
func readMarkers(image []byte, q, end int) []uint32 {
	le := binary.LittleEndian
	m := []uint32{0}
	for p := q + 4; p+4 <= end; p += 4 {
		v := le.Uint32(image[p:])
		d := v - m[len(m)-1]
		if v <= m[len(m)-1] || d < 512 || d > 256*kallsymsMaxRecord {
			break
		}
		m = append(m, v)
	}
	if len(m) > kallsymsMaxSyms/256 {
		return nil
	}
	return m
}

// decodeAt tries markers found at q: the names end just before them, the
// symbol count sits just before the names, and the record at every
// 256th position must start where its marker says.
func (tt *tokenTable) decodeAt(image []byte, q int, markers []uint32) (*Kallsyms, error) {
	le := binary.LittleEndian
	mEnd := q + 4*len(markers)
	// With kallsyms_seqs_of_names between the markers and the token
	// table, its length gives the symbol count.
	seqN := -1
	if gap := tt.start - alignUp(mEnd, 8); gap >= 8 {
		seqN = gap / 3 // the table is followed by up to 7 bytes of padding
	}
	lastM := int(markers[len(markers)-1])
	minN, maxN := max(256*(len(markers)-1)+1, kallsymsMinSyms), 256*len(markers)
	if seqN >= 0 && (seqN < minN || seqN-2 > maxN) {
		return nil, fmt.Errorf("markers at %#x: %d of them, but %d sequence numbers", q, len(markers), seqN)
	}
	var firstErr error
	// The names end at q (or a little before: alignment), and are
	// markers[last] bytes plus the last block's records long.
	hi := q - lastM - 2
	lo := max(4, q-lastM-kallsymsMaxRecord*(maxN-minN+1)-8)
	for s := hi; s >= lo; s-- {
		for _, at := range []int{s - 8, s - 4} { // num_syms: .long then padding, or a pointer; 32-bit
			if at < 0 || at+4 > len(image) {
				continue
			}
			n := int(le.Uint32(image[at:]))
			if n < minN || n > maxN || at == s-8 && le.Uint32(image[s-4:]) != 0 {
				continue
			}
			if seqN >= 0 && (n < seqN-2 || n > seqN) {
				continue
			}
			names, end, err := tt.readNames(image, s, n, markers)
			if err != nil || end > q || q-end >= 8 {
				if err == nil {
					err = fmt.Errorf("names at %#x end at %#x, not at the markers (%#x)", s, end, q)
				}
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			k, err := tt.addresses(image, at, names)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			return k, nil
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("markers at %#x: no kallsyms_num_syms and names before them", q)
	}
	return nil, firstErr
}

func alignUp(x, a int) int { return (x + a - 1) &^ (a - 1) }

// readNames decodes n records from s, checking the markers, and returns
// the type letter and name of each and where the records end.
func (tt *tokenTable) readNames(image []byte, s, n int, markers []uint32) ([]Symbol, int, error) {
	// Every 256th record is checked against its marker as it comes, so a
	// wrong guess fails early; and the slice grows as records prove out
	// rather than being sized by an unproven count.
	syms := make([]Symbol, 0, min(n, 4096))
	var name []byte
	p := s
	for i := range n {
		if i%256 == 0 && p-s != int(markers[i/256]) {
			return nil, 0, fmt.Errorf("names at %#x: record %d at +%#x, its marker says +%#x", s, i, p-s, markers[i/256])
		}
		if p >= len(image) {
			return nil, 0, fmt.Errorf("names at %#x: record %d past the end of the image", s, i)
		}
		l := int(image[p])
		p++
		if l&0x80 != 0 { // a ULEB128 length, two bytes at most
			if p >= len(image) || image[p]&0x80 != 0 {
				return nil, 0, fmt.Errorf("names at %#x: record %d: bad length", s, i)
			}
			l = l&0x7f | int(image[p])<<7
			p++
		}
		if l == 0 || p+l > len(image) {
			return nil, 0, fmt.Errorf("names at %#x: record %d: bad length %d", s, i, l)
		}
		name = name[:0]
		for _, t := range image[p : p+l] {
			name = append(name, tt.tokens[t]...)
		}
		p += l
		if len(name) < 2 || name[0] <= ' ' || name[0] >= 0x7f {
			return nil, 0, fmt.Errorf("names at %#x: record %d: %q is no type letter and name", s, i, name)
		}
		syms = append(syms, Symbol{Kind: name[0], Name: string(name[1:])})
	}
	return syms, p, nil
}

// addresses finds the addresses of the symbols named before or after the
// token tables (numSyms is where kallsyms_num_syms lies) and returns the
// table. The kernel sorts its symbols by address, and so must the
// addresses found here be.
func (tt *tokenTable) addresses(image []byte, numSyms int, syms []Symbol) (*Kallsyms, error) {
	le := binary.LittleEndian
	n := len(syms)
	after := alignUp(tt.index+512, 8)
	type place struct {
		layout   string
		at, base int // the first address or offset; the relative base or -1
	}
	rb := numSyms - 8
	places := []place{
		{"offsets before num_syms", rb - alignUp(4*n, 8), rb},
		{"offsets after token_index", after, alignUp(after+4*n, 8)},
		{"addresses before num_syms", numSyms - 8*n, -1},
		{"addresses after token_index", after, -1},
	}
	for _, pl := range places {
		width := 4
		if pl.base < 0 {
			width = 8
		}
		if pl.at < 0 || pl.at+width*n > len(image) || pl.base+8 > len(image) {
			continue
		}
		k := &Kallsyms{Layout: pl.layout}
		addrs := make([]uint64, n)
		if pl.base < 0 {
			for i := range n {
				addrs[i] = le.Uint64(image[pl.at+8*i:])
			}
		} else {
			k.RelativeBase = le.Uint64(image[pl.base:])
			for i := range n {
				k.AbsolutePercpu = k.AbsolutePercpu || int32(le.Uint32(image[pl.at+4*i:])) < 0
			}
			for i := range n {
				off := int32(le.Uint32(image[pl.at+4*i:]))
				switch {
				case !k.AbsolutePercpu:
					addrs[i] = k.RelativeBase + uint64(uint32(off))
				case off >= 0:
					addrs[i] = uint64(off)
				default:
					addrs[i] = k.RelativeBase - 1 - uint64(int64(off))
				}
			}
		}
		if !slices.IsSorted(addrs) || addrs[n-1] == 0 {
			continue
		}
		k.Syms = make([]Symbol, n)
		for i, s := range syms {
			s.Addr = addrs[i]
			k.Syms[i] = s
		}
		return k, nil
	}
	return nil, fmt.Errorf("%d names at kallsyms_num_syms %#x: no sorted addresses or offsets for them", n, numSyms)
}
