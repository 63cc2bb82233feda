package gdbstub

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// DefaultPacketSize is the largest packet (payload bytes between '$' and
// '#', after run-length expansion) the stub accepts and advertises in
// qSupported, unless Options.PacketSize says otherwise.
const DefaultPacketSize = 0x4000

// minPacketSize keeps replies that must fit in one packet (a full `g`
// reply is 1320 hex digits) possible.
const minPacketSize = 0x800

// interruptByte is what gdb sends, outside any packet, for Ctrl-C.
const interruptByte = 0x03

// FrameKind says what Decoder.Next read.
type FrameKind int

const (
	FramePacket    FrameKind = iota + 1 // $data#cs with a good checksum
	FrameAck                            // +
	FrameNak                            // -
	FrameInterrupt                      // 0x03 between packets
)

// Frame is one unit read from the wire.
type Frame struct {
	Kind FrameKind
	// Data is a packet's payload with run-length encoding expanded. It is
	// still escaped ('}' pairs): only binary data (X) is unescaped, by
	// Unescape.
	Data []byte
}

// ChecksumError is a packet whose checksum does not match its data. In
// acknowledgment mode the stub answers '-' and the client resends.
type ChecksumError struct {
	Sent     string // the two characters after '#', as received
	Computed byte   // the sum of the data bytes modulo 256
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("packet checksum mismatch: packet says %q, data sums to %02x", e.Sent, e.Computed)
}

// TooLongError is a packet longer than the size the stub advertised. Its
// bytes were read up to '#' and dropped; a checksum error takes
// precedence.
type TooLongError struct {
	Len int // bytes of payload seen (at least Max+1)
	Max int
}

func (e *TooLongError) Error() string {
	return fmt.Sprintf("packet of %d bytes or more exceeds PacketSize %d", e.Len, e.Max)
}

// GarbageError is bytes that belong to no packet: noise between packets,
// or a packet cut short by a new '$'. They are skipped.
type GarbageError struct {
	Bytes []byte // the first bytes skipped (at most 32)
	Len   int    // how many were skipped
}

func (e *GarbageError) Error() string {
	return fmt.Sprintf("skipped %d bytes outside any packet: %q", e.Len, e.Bytes)
}

// MalformedError is a packet with a good checksum whose payload cannot be
// decoded: a run-length marker with nothing to repeat or a bad count, or
// a dangling escape.
type MalformedError struct {
	Reason string
}

func (e *MalformedError) Error() string { return "malformed packet: " + e.Reason }

// isProtocolError says err is one of the typed, non-fatal decoding
// errors: the stream goes on after it.
func isProtocolError(err error) bool {
	var (
		c *ChecksumError
		t *TooLongError
		g *GarbageError
		m *MalformedError
	)
	return errors.As(err, &c) || errors.As(err, &t) || errors.As(err, &g) || errors.As(err, &m)
}

// Decoder reads frames from a gdb connection.
type Decoder struct {
	r   *bufio.Reader
	max int
	raw []byte
	// restart says a '$' was read inside a packet: the next packet has
	// begun.
	restart bool
}

// NewDecoder reads from r, accepting packets of at most max payload bytes
// (DefaultPacketSize if max <= 0).
func NewDecoder(r io.Reader, max int) *Decoder {
	if max <= 0 {
		max = DefaultPacketSize
	}
	return &Decoder{r: bufio.NewReaderSize(r, 4096), max: max}
}

// Next reads the next frame. Errors of type *ChecksumError,
// *TooLongError, *GarbageError and *MalformedError are not fatal: call
// Next again. Any other error (io.EOF, a network error) ends the stream.
func (d *Decoder) Next() (Frame, error) {
	if d.restart {
		d.restart = false
		return d.packet()
	}
	b, err := d.r.ReadByte()
	if err != nil {
		return Frame{}, err
	}
	switch b {
	case '$':
		return d.packet()
	case '+':
		return Frame{Kind: FrameAck}, nil
	case '-':
		return Frame{Kind: FrameNak}, nil
	case interruptByte:
		return Frame{Kind: FrameInterrupt}, nil
	}
	g := &GarbageError{Bytes: []byte{b}, Len: 1}
	for {
		next, err := d.r.Peek(1)
		if err != nil || isFrameStart(next[0]) {
			return Frame{}, g
		}
		d.r.ReadByte()
		if len(g.Bytes) < 32 {
			g.Bytes = append(g.Bytes, next[0])
		}
		g.Len++
	}
}

func isFrameStart(b byte) bool {
	return b == '$' || b == '+' || b == '-' || b == interruptByte
}

// packet reads a packet after its '$'.
func (d *Decoder) packet() (Frame, error) {
	d.raw = d.raw[:0]
	var sum byte
	seen := 0
	for {
		b, err := d.r.ReadByte()
		if err != nil {
			return Frame{}, unexpected(err)
		}
		if b == '#' {
			break
		}
		if b == '$' {
			d.restart = true
			return Frame{}, &GarbageError{Bytes: append([]byte("$"), clip(d.raw, 31)...), Len: seen + 1}
		}
		sum += b
		seen++
		if seen <= d.max {
			d.raw = append(d.raw, b)
		}
	}
	var cs [2]byte
	for i := range cs {
		b, err := d.r.ReadByte()
		if err != nil {
			return Frame{}, unexpected(err)
		}
		cs[i] = b
	}
	sent, ok := parseHexByte(cs[0], cs[1])
	if !ok || sent != sum {
		return Frame{}, &ChecksumError{Sent: string(cs[:]), Computed: sum}
	}
	if seen > d.max {
		return Frame{}, &TooLongError{Len: seen, Max: d.max}
	}
	data, err := expandRunLength(nil, d.raw, d.max)
	if err != nil {
		return Frame{}, err
	}
	return Frame{Kind: FramePacket, Data: data}, nil
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// expandRunLength expands "X*n" (n-29 more copies of X) and keeps escape
// pairs ("}x") intact as one unit, so that a run of an escaped byte
// repeats the pair.
func expandRunLength(dst, raw []byte, max int) ([]byte, error) {
	prev, unit := -1, 0 // the last unit written to dst: start and length
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '}':
			if i+1 >= len(raw) {
				return nil, &MalformedError{Reason: "escape '}' at end of packet"}
			}
			prev, unit = len(dst), 2
			dst = append(dst, c, raw[i+1])
			i++
		case '*':
			if prev < 0 {
				return nil, &MalformedError{Reason: "run-length '*' with nothing to repeat"}
			}
			if i+1 >= len(raw) {
				return nil, &MalformedError{Reason: "run-length '*' without a count"}
			}
			n := int(raw[i+1]) - 29
			if raw[i+1] < ' ' || raw[i+1] > '~' {
				return nil, &MalformedError{Reason: fmt.Sprintf("run-length count %q out of range", raw[i+1])}
			}
			if len(dst)+n*unit > max {
				return nil, &TooLongError{Len: len(dst) + n*unit, Max: max}
			}
			for range n {
				dst = append(dst, dst[prev:prev+unit]...)
			}
			prev = len(dst) - unit
			i++
		default:
			prev, unit = len(dst), 1
			dst = append(dst, c)
		}
	}
	if len(dst) > max {
		return nil, &TooLongError{Len: len(dst), Max: max}
	}
	return dst, nil
}

// needsEscape says c must be sent as '}' followed by c^0x20.
func needsEscape(c byte) bool {
	return c == '$' || c == '#' || c == '}' || c == '*'
}

// AppendPacket frames data as $data#cs, escaping '$', '#', '}' and '*'
// (gdb unescapes every reply, and would take a bare '*' for run-length
// encoding).
func AppendPacket(dst, data []byte) []byte {
	dst = append(dst, '$')
	var sum byte
	for _, c := range data {
		if needsEscape(c) {
			e := c ^ 0x20
			dst = append(dst, '}', e)
			sum += '}' + e
			continue
		}
		dst = append(dst, c)
		sum += c
	}
	return append(dst, '#', hexDigits[sum>>4], hexDigits[sum&15])
}

// Unescape decodes binary data ('}' followed by c^0x20 stands for c).
func Unescape(dst, data []byte) ([]byte, error) {
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c == '}' {
			if i+1 >= len(data) {
				return nil, &MalformedError{Reason: "escape '}' at end of binary data"}
			}
			i++
			c = data[i] ^ 0x20
		}
		dst = append(dst, c)
	}
	return dst, nil
}

// checksum is the sum of b modulo 256.
func checksum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return s
}

const hexDigits = "0123456789abcdef"

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func parseHexByte(hi, lo byte) (byte, bool) {
	h, ok1 := unhex(hi)
	l, ok2 := unhex(lo)
	return h<<4 | l, ok1 && ok2
}

// appendHex appends b as lowercase hex digits.
func appendHex(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
	}
	return dst
}

// decodeHex decodes an even number of hex digits.
func decodeHex(s []byte) ([]byte, bool) {
	if len(s)%2 != 0 {
		return nil, false
	}
	out := make([]byte, len(s)/2)
	for i := range out {
		b, ok := parseHexByte(s[2*i], s[2*i+1])
		if !ok {
			return nil, false
		}
		out[i] = b
	}
	return out, true
}

// parseHexUint parses 1 to 16 hex digits.
func parseHexUint(s []byte) (uint64, bool) {
	if len(s) == 0 || len(s) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range s {
		d, ok := unhex(c)
		if !ok {
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}
