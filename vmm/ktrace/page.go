package ktrace

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Kind says which of the three events a record is.
type Kind uint8

const (
	KindExit          Kind = iota + 1 // kvm_exit: the guest left hardware virtualization
	KindEntry                         // kvm_entry: KVM is about to enter the guest
	KindUserspaceExit                 // kvm_userspace_exit: KVM_RUN returns to the VMM
)

// ISA values of kvm_exit's isa field (arch/x86/kvm/trace.h).
const (
	isaVMX = 1
	isaSVM = 2
)

// Event is one decoded record: fixed size, so that a page decodes into a
// reused slice without allocating.
type Event struct {
	TS     uint64 // trace clock, ns
	PID    int32  // the thread (task pid) that hit the event
	Kind   Kind
	ISA    uint32 // kvm_exit: isaVMX or isaSVM
	Reason uint32 // kvm_exit: hardware exit reason; kvm_userspace_exit: KVM_EXIT_*
	Errno  int32  // kvm_userspace_exit: KVM_RUN's result (-EINTR, ...)
}

// The ring buffer's compressed event header (events/header_event): a
// 32-bit word of type_len:5 and time_delta:27, then data.
const (
	typePadding    = 29
	typeTimeExtend = 30
	typeTimeStamp  = 31
	tsShift        = 27
	// The page header (events/header_page) on 64-bit kernels: u64
	// timestamp, local_t commit (flags in its high bits), then data.
	pageHeaderSize = 16
	missedEvents   = 1 << 31 // events were lost before this page
	missedStored   = 1 << 30 // and their count follows the data
	// An absolute time stamp keeps only the low 59 bits; the page's
	// timestamp supplies the rest (rb_fix_abs_ts).
	tsMSB = uint64(0xf) << 59
)

// errPage is wrapped by every malformed-page error.
var errPage = errors.New("malformed ring buffer page")

// decoder turns the binary pages of trace_pipe_raw into Events, with the
// field offsets the running kernel published in its format files.
type decoder struct {
	exitID, entryID, uexitID uint16
	typ, pid                 field // common_type, common_pid
	exitReason, exitISA      field
	uexitReason, uexitErrno  field
	minLen                   [3]int // bytes a record of each kind must have
}

// newDecoder checks that the three formats have the fields the pairing
// reads and remembers where they are.
func newDecoder(exit, entry, uexit *eventFormat) (*decoder, error) {
	d := &decoder{exitID: exit.id, entryID: entry.id, uexitID: uexit.id}
	var err error
	get := func(f *eventFormat, name string, kind Kind) field {
		fl, e := f.need(name)
		if e != nil && err == nil {
			err = e
		}
		if end := fl.offset + fl.size; end > d.minLen[kind-1] {
			d.minLen[kind-1] = end
		}
		return fl
	}
	d.typ = get(exit, "common_type", KindExit)
	d.pid = get(exit, "common_pid", KindExit)
	for _, f := range []*eventFormat{entry, uexit} {
		// The common fields are the same in every event; check they are.
		if f.fields["common_type"] != d.typ || f.fields["common_pid"] != d.pid {
			return nil, fmt.Errorf("event %s: common fields differ from kvm_exit's", f.name)
		}
	}
	get(entry, "common_pid", KindEntry)
	get(uexit, "common_pid", KindUserspaceExit)
	d.exitReason = get(exit, "exit_reason", KindExit)
	d.exitISA = get(exit, "isa", KindExit)
	d.uexitReason = get(uexit, "reason", KindUserspaceExit)
	d.uexitErrno = get(uexit, "errno", KindUserspaceExit)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// readField reads an integer field of a record; the caller has checked
// that the record is long enough.
func readField(rec []byte, f field) uint64 {
	b := rec[f.offset : f.offset+f.size]
	var v uint64
	switch f.size {
	case 1:
		v = uint64(b[0])
		if f.signed {
			v = uint64(int64(int8(b[0])))
		}
	case 2:
		v = uint64(binary.LittleEndian.Uint16(b))
		if f.signed {
			v = uint64(int64(int16(v)))
		}
	case 4:
		v = uint64(binary.LittleEndian.Uint32(b))
		if f.signed {
			v = uint64(int64(int32(v)))
		}
	case 8:
		v = binary.LittleEndian.Uint64(b)
	}
	return v
}

// PageStats says what one page held besides the events returned.
type PageStats struct {
	Lost    uint64 // events the ring buffer dropped before this page
	Skipped uint64 // records of other events, or too short to read
}

// decodePage appends the kvm events of one trace_pipe_raw page to out.
// Other events are skipped. A page that does not parse yields the events
// before the fault and an error wrapping errPage; it never panics.
func (d *decoder) decodePage(page []byte, out []Event) ([]Event, PageStats, error) {
	var st PageStats
	if len(page) < pageHeaderSize {
		return out, st, fmt.Errorf("%w: %d bytes, shorter than its header", errPage, len(page))
	}
	ts := binary.LittleEndian.Uint64(page)
	commit := binary.LittleEndian.Uint64(page[8:])
	size := commit &^ (missedEvents | missedStored)
	data := page[pageHeaderSize:]
	if size > uint64(len(data)) {
		return out, st, fmt.Errorf("%w: commit %d beyond the page's %d data bytes", errPage, size, len(data))
	}
	if commit&missedEvents != 0 {
		st.Lost = 1 // at least one; the exact count when stored
		if commit&missedStored != 0 && size+8 <= uint64(len(data)) {
			if n := binary.LittleEndian.Uint64(data[size:]); n > 0 {
				st.Lost = n
			}
		}
	}
	data = data[:size]
	for off := 0; off+4 <= len(data); {
		hdr := binary.LittleEndian.Uint32(data[off:])
		typeLen, delta := hdr&0x1f, uint64(hdr>>5)
		var rec []byte
		switch {
		case typeLen == typePadding:
			if delta == 0 { // the rest of the page is empty
				return out, st, nil
			}
			// A discarded event: its length follows.
			if off+8 > len(data) {
				return out, st, fmt.Errorf("%w: padding header cut at %d", errPage, off)
			}
			n := int(binary.LittleEndian.Uint32(data[off+4:]))
			ts += delta
			if n < 4 || n > len(data)-off-4 {
				return out, st, fmt.Errorf("%w: padding of %d bytes at %d", errPage, n, off)
			}
			off += 4 + n
			continue
		case typeLen == typeTimeExtend || typeLen == typeTimeStamp:
			if off+8 > len(data) {
				return out, st, fmt.Errorf("%w: time record cut at %d", errPage, off)
			}
			v := uint64(binary.LittleEndian.Uint32(data[off+4:]))<<tsShift | delta
			if typeLen == typeTimeExtend {
				ts += v
			} else {
				ts = v | ts&tsMSB
			}
			off += 8
			continue
		case typeLen == 0: // a long record: its length (plus 4) follows
			if off+8 > len(data) {
				return out, st, fmt.Errorf("%w: record length cut at %d", errPage, off)
			}
			n := int(binary.LittleEndian.Uint32(data[off+4:]))
			if n < 4 || n > len(data)-off-4 {
				return out, st, fmt.Errorf("%w: record of %d bytes at %d", errPage, n, off)
			}
			rec = data[off+8 : off+4+n]
			off += 4 + n
		default:
			n := int(typeLen) * 4
			if n > len(data)-off-4 {
				return out, st, fmt.Errorf("%w: record of %d bytes at %d runs past the data", errPage, n, off)
			}
			rec = data[off+4 : off+4+n]
			off += 4 + n
		}
		ts += delta
		if ev, ok := d.record(rec, ts); ok {
			out = append(out, ev)
		} else {
			st.Skipped++
		}
	}
	return out, st, nil
}

// record decodes one event record, reporting false for other events and
// records too short for their fields.
func (d *decoder) record(rec []byte, ts uint64) (Event, bool) {
	if d.typ.offset+d.typ.size > len(rec) {
		return Event{}, false
	}
	var ev Event
	switch uint16(readField(rec, d.typ)) {
	case d.exitID:
		ev.Kind = KindExit
	case d.entryID:
		ev.Kind = KindEntry
	case d.uexitID:
		ev.Kind = KindUserspaceExit
	default:
		return Event{}, false
	}
	if len(rec) < d.minLen[ev.Kind-1] {
		return Event{}, false
	}
	ev.TS = ts
	ev.PID = int32(readField(rec, d.pid))
	switch ev.Kind {
	case KindExit:
		ev.Reason = uint32(readField(rec, d.exitReason))
		ev.ISA = uint32(readField(rec, d.exitISA))
	case KindUserspaceExit:
		ev.Reason = uint32(readField(rec, d.uexitReason))
		ev.Errno = int32(readField(rec, d.uexitErrno))
	}
	return ev, true
}
