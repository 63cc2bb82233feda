package kvm

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// Stats is a binary statistics fd (KVM_GET_STATS_FD) of a VM or vCPU: the
// kernel's own counters, such as exits handled without leaving the kernel.
type Stats struct {
	fd         int
	ID         string
	Descs      []StatDesc
	dataOffset int64
	dataWords  int
}

// Stat type, unit and base bits of StatDesc.Flags (KVM_STATS_*).
const (
	StatTypeMask       = 0xF
	StatTypeCumulative = 0x0
	StatTypeInstant    = 0x1
	StatTypePeak       = 0x2
	StatTypeLinearHist = 0x3
	StatTypeLogHist    = 0x4
	StatUnitMask       = 0xF << 4
	StatUnitNone       = 0x0 << 4
	StatUnitBytes      = 0x1 << 4
	StatUnitSeconds    = 0x2 << 4
	StatUnitCycles     = 0x3 << 4
	StatUnitBoolean    = 0x4 << 4
)

// StatDesc is one statistic: its values are Size uint64 words at word
// Offset/8 of the data block.
type StatDesc struct {
	Name       string
	Flags      uint32
	Exponent   int16
	Size       uint16
	Offset     uint32
	BucketSize uint32
}

// statsHeaderSize and statsDescSize are sizeof(struct kvm_stats_header)
// and sizeof(struct kvm_stats_desc) without its name.
const (
	statsHeaderSize = 24
	statsDescSize   = 16
)

func openStats(fd int) (*Stats, error) {
	s := &Stats{fd: fd}
	if err := s.readDescriptors(); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return s, nil
}

func (s *Stats) readDescriptors() error {
	var hdr [statsHeaderSize]byte
	if err := s.pread(hdr[:], 0); err != nil {
		return fmt.Errorf("read stats header: %w", err)
	}
	le := binary.LittleEndian
	nameSize := int(le.Uint32(hdr[4:]))
	numDesc := int(le.Uint32(hdr[8:]))
	idOff := int64(le.Uint32(hdr[12:]))
	descOff := int64(le.Uint32(hdr[16:]))
	s.dataOffset = int64(le.Uint32(hdr[20:]))
	if nameSize <= 0 || nameSize > 4096 || numDesc > 1<<16 {
		return fmt.Errorf("stats header: name size %d, %d descriptors: implausible", nameSize, numDesc)
	}
	id := make([]byte, nameSize)
	if err := s.pread(id, idOff); err != nil {
		return fmt.Errorf("read stats id: %w", err)
	}
	s.ID = cString(id)
	buf := make([]byte, numDesc*(statsDescSize+nameSize))
	if err := s.pread(buf, descOff); err != nil {
		return fmt.Errorf("read stats descriptors: %w", err)
	}
	s.Descs = make([]StatDesc, numDesc)
	for i := range s.Descs {
		b := buf[i*(statsDescSize+nameSize):]
		d := StatDesc{
			Flags:      le.Uint32(b[0:]),
			Exponent:   int16(le.Uint16(b[4:])),
			Size:       le.Uint16(b[6:]),
			Offset:     le.Uint32(b[8:]),
			BucketSize: le.Uint32(b[12:]),
			Name:       cString(b[statsDescSize : statsDescSize+nameSize]),
		}
		if end := int(d.Offset)/8 + int(d.Size); end > s.dataWords {
			s.dataWords = end
		}
		s.Descs[i] = d
	}
	return nil
}

// Words is the length of the buffer Read needs.
func (s *Stats) Words() int { return s.dataWords }

// Read reads the current values of every statistic into buf (Words long);
// desc's values are buf[desc.Offset/8 : desc.Offset/8+desc.Size].
func (s *Stats) Read(buf []uint64) error {
	if len(buf) < s.dataWords {
		return fmt.Errorf("stats read: buffer of %d words, need %d", len(buf), s.dataWords)
	}
	raw := make([]byte, 8*s.dataWords)
	if err := s.pread(raw, s.dataOffset); err != nil {
		return fmt.Errorf("read stats data: %w", err)
	}
	for i := range s.dataWords {
		buf[i] = binary.LittleEndian.Uint64(raw[8*i:])
	}
	return nil
}

// Lookup returns the descriptor of the named statistic.
func (s *Stats) Lookup(name string) (StatDesc, bool) {
	for _, d := range s.Descs {
		if d.Name == name {
			return d, true
		}
	}
	return StatDesc{}, false
}

func (s *Stats) pread(b []byte, off int64) error {
	for len(b) > 0 {
		n, err := unix.Pread(s.fd, b, off)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("short read at %d", off)
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
}

// Close closes the stats fd. Idempotent.
func (s *Stats) Close() error {
	if s.fd < 0 {
		return nil
	}
	err := unix.Close(s.fd)
	s.fd = -1
	return err
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
