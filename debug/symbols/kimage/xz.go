package kimage

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// The kernel's xz payload is compressed with the x86 BCJ filter in front
// of LZMA2 (scripts/xz_wrap.sh), which the xz package does not decode. So
// the container (.xz format 1.0.4) is read here, the LZMA2 data handed to
// the lzma package, and the BCJ filter undone on the result.

const (
	xzHeaderLen   = 12
	xzFilterX86   = 0x04
	xzFilterLZMA2 = 0x21
	xzMaxFilters  = 4
)

var crc64Table = crc64.MakeTable(crc64.ECMA)

// decodeXZ decodes every block of the first stream in data, producing at
// most limit bytes (want, when not -1, sizes the output up front), and
// verifies each block's check where it is a CRC32, CRC64 or SHA-256.
func decodeXZ(data []byte, limit, want int64) ([]byte, error) {
	if len(data) < xzHeaderLen {
		return nil, fmt.Errorf("truncated stream header: %w", io.ErrUnexpectedEOF)
	}
	flags := data[6:8]
	if crc32.ChecksumIEEE(flags) != binary.LittleEndian.Uint32(data[8:12]) {
		return nil, errors.New("corrupt stream header (CRC32 mismatch)")
	}
	if flags[0] != 0 || flags[1]&0xf0 != 0 {
		return nil, fmt.Errorf("unknown stream flags % x", flags)
	}
	check := flags[1]
	var out []byte
	var blocks [][2]uint64 // unpadded and uncompressed size of each
	if want > 0 {
		out = make([]byte, 0, want) // one allocation
	}
	pos := xzHeaderLen
	for {
		if pos >= len(data) {
			return nil, fmt.Errorf("truncated after %d bytes of output: no index: %w", len(out), io.ErrUnexpectedEOF)
		}
		if data[pos] == 0 { // the index: no more blocks
			if err := checkXZIndex(data[pos:], blocks, flags); err != nil {
				return nil, err
			}
			return out, nil
		}
		n, unpadded, block, err := decodeXZBlock(data[pos:], check, limit-int64(len(out)))
		if err != nil {
			return nil, fmt.Errorf("block at %#x: %w", pos, err)
		}
		out = append(out, block...)
		blocks = append(blocks, [2]uint64{uint64(unpadded), uint64(len(block))})
		pos += n
	}
}

// xzFilter is one entry of a block's filter chain.
type xzFilter struct {
	id    uint64
	props []byte
}

// decodeXZBlock decodes the block at the start of b and returns its
// length in b (header, data, padding and check), its unpadded size (as
// the index records it) and its output.
func decodeXZBlock(b []byte, check byte, limit int64) (n, unpadded int, out []byte, err error) {
	hlen := (int(b[0]) + 1) * 4
	if hlen > len(b) {
		return 0, 0, nil, fmt.Errorf("truncated block header: %w", io.ErrUnexpectedEOF)
	}
	h := b[:hlen]
	if crc32.ChecksumIEEE(h[:hlen-4]) != binary.LittleEndian.Uint32(h[hlen-4:]) {
		return 0, 0, nil, errors.New("corrupt block header (CRC32 mismatch)")
	}
	filters, err := parseXZBlockHeader(h[1 : hlen-4])
	if err != nil {
		return 0, 0, nil, err
	}
	last := filters[len(filters)-1]
	if last.id != xzFilterLZMA2 || len(last.props) != 1 || last.props[0] > 40 {
		return 0, 0, nil, fmt.Errorf("filter chain must end in LZMA2 with one property byte: %w", ErrNotSupported)
	}
	var bcjStart uint32
	for _, f := range filters[:len(filters)-1] {
		switch {
		case f.id == xzFilterX86 && len(f.props) == 0:
		case f.id == xzFilterX86 && len(f.props) == 4:
			bcjStart = binary.LittleEndian.Uint32(f.props)
		default:
			return 0, 0, nil, fmt.Errorf("filter %#x (%d property bytes): %w", f.id, len(f.props), ErrNotSupported)
		}
	}
	dict := int64(Limit)
	if p := last.props[0]; p < 40 {
		dict = int64(2|p&1) << (p/2 + 11)
	}
	dict = max(min(dict, limit), lzma.MinDictCap) // no distance reaches past the output

	cr := &countingReader{r: bytes.NewReader(b[hlen:])}
	r, err := lzma.Reader2Config{DictCap: int(dict)}.NewReader2(cr)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("LZMA2: %w", err)
	}
	out, err = readBounded(r, limit, -1)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("LZMA2: %w", err)
	}
	if len(filters) > 1 {
		bcjX86(out, bcjStart)
	}
	csize := xzCheckSize(check)
	unpadded = hlen + int(cr.n) + csize
	n = (hlen + int(cr.n) + 3) &^ 3 // block padding
	if n+csize > len(b) {
		return 0, 0, nil, fmt.Errorf("truncated: no room for the block's check: %w", io.ErrUnexpectedEOF)
	}
	sum := b[n : n+csize]
	switch check {
	case 0x01:
		if crc32.ChecksumIEEE(out) != binary.LittleEndian.Uint32(sum) {
			return 0, 0, nil, errors.New("corrupt data (CRC32 mismatch)")
		}
	case 0x04:
		if crc64.Checksum(out, crc64Table) != binary.LittleEndian.Uint64(sum) {
			return 0, 0, nil, errors.New("corrupt data (CRC64 mismatch)")
		}
	case 0x0a:
		if s := sha256.Sum256(out); !bytes.Equal(s[:], sum) {
			return 0, 0, nil, errors.New("corrupt data (SHA-256 mismatch)")
		}
	}
	return n + csize, unpadded, out, nil
}

// checkXZIndex checks the index that follows the blocks against what
// was decoded, and the stream footer after it: a stream cut anywhere is
// an error, even after its last block.
func checkXZIndex(b []byte, blocks [][2]uint64, flags []byte) error {
	bad := errors.New("corrupt index")
	p := 1
	count, n := binary.Uvarint(b[p:])
	if n <= 0 {
		return fmt.Errorf("truncated index: %w", io.ErrUnexpectedEOF)
	}
	if count != uint64(len(blocks)) {
		return fmt.Errorf("corrupt index: %d records for %d blocks", count, len(blocks))
	}
	p += n
	for _, blk := range blocks {
		for _, want := range blk {
			v, n := binary.Uvarint(b[p:])
			if n <= 0 {
				return fmt.Errorf("truncated index: %w", io.ErrUnexpectedEOF)
			}
			if v != want {
				return fmt.Errorf("corrupt index: a block size is %d, the block had %d", v, want)
			}
			p += n
		}
	}
	p = (p + 3) &^ 3
	if p+4+12 > len(b) {
		return fmt.Errorf("truncated index or footer: %w", io.ErrUnexpectedEOF)
	}
	if crc32.ChecksumIEEE(b[:p]) != binary.LittleEndian.Uint32(b[p:]) {
		return bad
	}
	foot := b[p+4 : p+16]
	if string(foot[10:12]) != "YZ" || !bytes.Equal(foot[8:10], flags) ||
		crc32.ChecksumIEEE(foot[4:10]) != binary.LittleEndian.Uint32(foot[0:4]) ||
		(uint64(binary.LittleEndian.Uint32(foot[4:8]))+1)*4 != uint64(p+4) {
		return errors.New("corrupt stream footer")
	}
	return nil
}

// parseXZBlockHeader reads the block flags, the optional sizes and the
// filter chain (the header without its size byte and CRC32).
func parseXZBlockHeader(h []byte) ([]xzFilter, error) {
	if len(h) < 1 {
		return nil, errors.New("corrupt block header: empty")
	}
	flags := h[0]
	if flags&0x3c != 0 {
		return nil, fmt.Errorf("corrupt block header: reserved flags %#x", flags)
	}
	h = h[1:]
	for _, bit := range []byte{0x40, 0x80} { // compressed, uncompressed size
		if flags&bit != 0 {
			if _, n := binary.Uvarint(h); n <= 0 {
				return nil, errors.New("corrupt block header: bad size field")
			} else {
				h = h[n:]
			}
		}
	}
	filters := make([]xzFilter, int(flags&3)+1)
	for i := range filters {
		id, n := binary.Uvarint(h)
		if n <= 0 {
			return nil, errors.New("corrupt block header: bad filter ID")
		}
		h = h[n:]
		size, n := binary.Uvarint(h)
		if n <= 0 || size > uint64(len(h)-n) {
			return nil, errors.New("corrupt block header: bad filter properties")
		}
		h = h[n:]
		filters[i] = xzFilter{id: id, props: h[:size]}
		h = h[size:]
	}
	for _, c := range h {
		if c != 0 {
			return nil, errors.New("corrupt block header: non-zero padding")
		}
	}
	return filters, nil
}

// xzCheckSize is the length of a block's check for a check type.
func xzCheckSize(check byte) int {
	if check == 0 {
		return 0
	}
	return 4 << ((check - 1) / 3)
}

// countingReader counts what the LZMA2 decoder consumed, which is where
// the block's padding and check start.
type countingReader struct {
	r *bytes.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
