package ktrace

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The testdata was captured in kvmbox (Debian 6.1.0 kernel, KVM on
// emulated AMD SVM): the three events' format files and header_page from
// /sys/kernel/tracing/events, and for two runs of kvmscope (bench-cpuid
// with N=20, pio-loop with 10 writes) the instance's trace_pipe_raw page
// and, before it was consumed, the same events as text (trace).

func loadFormats(t testing.TB) [3]*eventFormat {
	t.Helper()
	var out [3]*eventFormat
	for i, n := range eventNames {
		data, err := os.ReadFile(filepath.Join("testdata", n+".format"))
		if err != nil {
			t.Fatal(err)
		}
		if out[i], err = parseFormat(data); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
	return out
}

func loadDecoder(t testing.TB) *decoder {
	t.Helper()
	f := loadFormats(t)
	d, err := newDecoder(f[0], f[1], f[2])
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestParseFormat(t *testing.T) {
	f := loadFormats(t)
	exit := f[0]
	if exit.name != "kvm_exit" || exit.id != 1440 {
		t.Fatalf("kvm_exit: name %q id %d", exit.name, exit.id)
	}
	for name, want := range map[string]field{
		"common_type": {0, 2, false}, "common_pid": {4, 4, true},
		"exit_reason": {8, 4, false}, "isa": {24, 4, false}, "vcpu_id": {56, 4, false},
	} {
		if got := exit.fields[name]; got != want {
			t.Errorf("kvm_exit field %s = %+v, want %+v", name, got, want)
		}
	}
	if got := f[2].fields["errno"]; got != (field{12, 4, true}) {
		t.Errorf("kvm_userspace_exit errno = %+v", got)
	}
	n := namesFrom(exit)
	for k, want := range map[reasonKey]string{
		keyOf(isaSVM, 0x72): "cpuid", keyOf(isaSVM, 0x7b): "io", keyOf(isaSVM, 0x400): "npf",
		keyOf(isaSVM, 0x43): "BP excp", keyOf(isaSVM, 0xffffffff): "invalid_guest_state",
		keyOf(isaSVM, 0x80000010): "vmgexit_page_state_change",
		keyOf(isaVMX, 10):         "CPUID", keyOf(isaVMX, 30): "IO_INSTRUCTION", keyOf(isaVMX, 48): "EPT_VIOLATION",
		keyOf(isaVMX, 0x80000021): "INVALID_STATE (failed entry)",
		keyOf(isaSVM, 0x555):      "svm 0x555",
	} {
		if got := n.name(k); got != want {
			t.Errorf("name(%#x) = %q, want %q", uint64(k), got, want)
		}
	}
	// String concatenation inside an entry, as kvm_userspace_exit has.
	u := symbolTables(f[2].print)
	if len(u) != 1 || u[0][2] != "KVM_EXIT_IO" || u[0][30] != "KVM_EXIT_X86_WRMSR" {
		t.Errorf("kvm_userspace_exit symbols: %v", u)
	}
}

func TestParseFormatBadInput(t *testing.T) {
	for _, in := range []string{
		"", "name: x\n", "name: x\nID: 99999999\n", "name: x\nID: 1\n\tfield:int a;\toffset:x;\tsize:4;\n",
		"name: x\nID: 1\n\tfield:;\toffset:1;\tsize:4;\n", "name: x\nID: 1\n\tfield:int a;\tsize:4;\n",
	} {
		if _, err := parseFormat([]byte(in)); err == nil {
			t.Errorf("parseFormat(%q) succeeded", in)
		}
	}
}

// textEvent is one line of the kernel's own text rendering.
type textEvent struct {
	us     uint64 // time stamp, µs
	pid    int32
	kind   Kind
	reason string // kvm_exit's reason name
}

// parseText reads trace lines such as
//
//	kvmscope-149     [001] .....    10.339861: kvm_exit: vcpu 0 reason cpuid rip ...
func parseText(t *testing.T, file string) []textEvent {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []textEvent
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		i := strings.LastIndex(line, ": kvm_")
		head, ev := line[:i], line[i+2:]
		f := strings.Fields(head)
		ts := strings.Replace(f[len(f)-1], ".", "", 1)
		us, err1 := strconv.ParseUint(ts, 10, 64)
		task := f[len(f)-4]
		pid, err2 := strconv.Atoi(task[strings.LastIndexByte(task, '-')+1:])
		if err1 != nil || err2 != nil {
			t.Fatalf("bad line %q", line)
		}
		e := textEvent{us: us, pid: int32(pid)}
		name, payload, _ := strings.Cut(ev, ": ")
		switch name {
		case "kvm_exit":
			e.kind = KindExit
			w := strings.Fields(payload)
			e.reason = w[3]
		case "kvm_entry":
			e.kind = KindEntry
		case "kvm_userspace_exit":
			e.kind = KindUserspaceExit
		}
		out = append(out, e)
	}
	return out
}

// TestDecodePageMatchesText decodes the captured binary pages and checks
// them against the kernel's own text of the same events: kind, thread,
// reason name and time stamp.
func TestDecodePageMatchesText(t *testing.T) {
	d := loadDecoder(t)
	names := namesFrom(loadFormats(t)[0])
	for _, c := range []string{"cpuid20", "pio10"} {
		t.Run(c, func(t *testing.T) {
			page, err := os.ReadFile(filepath.Join("testdata", c+".page"))
			if err != nil {
				t.Fatal(err)
			}
			evs, st, err := d.decodePage(page, nil)
			if err != nil || st.Lost != 0 || st.Skipped != 0 {
				t.Fatalf("decodePage: %v, %+v", err, st)
			}
			want := parseText(t, filepath.Join("testdata", c+".trace.txt"))
			if len(evs) != len(want) {
				t.Fatalf("%d events decoded, the text has %d", len(evs), len(want))
			}
			for i, e := range evs {
				w := want[i]
				if e.Kind != w.kind || e.PID != w.pid || (e.TS+500)/1000 != w.us {
					t.Fatalf("event %d = %+v, text says %+v", i, e, w)
				}
				if e.Kind == KindExit {
					if got := names.name(keyOf(e.ISA, e.Reason)); got != w.reason {
						t.Errorf("event %d: reason %q, text says %q", i, got, w.reason)
					}
				}
			}
		})
	}
}

func TestPairCaptured(t *testing.T) {
	d := loadDecoder(t)
	names := namesFrom(loadFormats(t)[0])
	for _, c := range []struct {
		name   string
		tid    int
		kernel map[string]uint64
		user   map[string]uint64
	}{
		{"cpuid20", 149, map[string]uint64{"cpuid": 20, "npf": 2, "interrupt": 1, "read_cr0": 1, "write_cr0": 1}, map[string]uint64{"io": 1}},
		{"pio10", 169, map[string]uint64{"npf": 1}, map[string]uint64{"io": 11}},
	} {
		page, err := os.ReadFile(filepath.Join("testdata", c.name+".page"))
		if err != nil {
			t.Fatal(err)
		}
		evs, _, _ := d.decodePage(page, nil)
		p := newPairer([]int{c.tid, 12345})
		for i := range evs {
			p.add(&evs[i])
		}
		p.finish()
		gotK, gotU := map[string]uint64{}, map[string]uint64{}
		for _, r := range p.rows(names) {
			if r.Kernel > 0 {
				gotK[r.Reason] = r.Kernel
				if r.KernelTime.Count() != r.Kernel || r.MeanKernel() <= 0 {
					t.Errorf("%s %s: %d in kernel, %d timed, mean %v", c.name, r.Reason, r.Kernel, r.KernelTime.Count(), r.MeanKernel())
				}
			}
			if r.User > 0 {
				gotU[r.Reason] = r.User
			}
		}
		if !mapsEqual(gotK, c.kernel) || !mapsEqual(gotU, c.user) || p.unpaired != 0 {
			t.Errorf("%s: in kernel %v, to user %v, unpaired %d; want %v, %v", c.name, gotK, gotU, p.unpaired, c.kernel, c.user)
		}
	}
}

func mapsEqual(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestPairSequences(t *testing.T) {
	exit := func(ts uint64, reason uint32) Event {
		return Event{TS: ts, PID: 7, Kind: KindExit, ISA: isaSVM, Reason: reason}
	}
	entry := func(ts uint64) Event { return Event{TS: ts, PID: 7, Kind: KindEntry} }
	uexit := func(ts uint64) Event { return Event{TS: ts, PID: 7, Kind: KindUserspaceExit} }
	evs := []Event{
		entry(0),                    // first entry: nothing open
		exit(100, 0x72), entry(300), // cpuid, 200 ns in kernel
		exit(400, 0x7b), uexit(450), entry(1400), // io, 1000 ns round trip
		exit(1500, 0x72),              // its entry lost...
		exit(1600, 0x72), entry(1700), // ...so the first is unpaired
		{TS: 1800, PID: 8, Kind: KindExit}, // another process's thread
		exit(1900, 0x7b), uexit(1950),      // the exit that stops the VM
	}
	p := newPairer([]int{7})
	for i := range evs {
		p.add(&evs[i])
	}
	p.finish()
	rows := p.rows(&reasonNames{svm: map[uint32]string{0x72: "cpuid", 0x7b: "io"}})
	if len(rows) != 2 || p.unpaired != 1 {
		t.Fatalf("rows %+v, unpaired %d", rows, p.unpaired)
	}
	for _, r := range rows {
		switch r.Reason {
		case "cpuid":
			if r.Kernel != 2 || r.User != 0 || r.KernelSum != 300 {
				t.Errorf("cpuid row %+v", r)
			}
		case "io":
			if r.Kernel != 0 || r.User != 2 || r.UserTime.Count() != 1 || r.MeanUser() != 1000 {
				t.Errorf("io row %+v", r)
			}
		default:
			t.Errorf("unexpected row %q", r.Reason)
		}
	}
}

// page builds a ring buffer page from records, for the cases the
// captured pages lack.
type pageBuilder struct{ data []byte }

func (b *pageBuilder) word(v uint32) { b.data = binary.LittleEndian.AppendUint32(b.data, v) }
func (b *pageBuilder) small(delta uint32, rec []byte) {
	for len(rec)%4 != 0 {
		rec = append(rec, 0)
	}
	b.word(delta<<5 | uint32(len(rec)/4))
	b.data = append(b.data, rec...)
}
func (b *pageBuilder) long(delta uint32, rec []byte) {
	b.word(delta << 5)
	b.word(uint32(len(rec) + 4))
	b.data = append(b.data, rec...)
}
func (b *pageBuilder) page(ts uint64, flags uint64, tail []byte) []byte {
	p := binary.LittleEndian.AppendUint64(nil, ts)
	p = binary.LittleEndian.AppendUint64(p, uint64(len(b.data))|flags)
	p = append(p, b.data...)
	p = append(p, tail...)
	return append(p, make([]byte, 4096-len(p))...)
}

func entryRecord(d *decoder, pid int32) []byte {
	r := make([]byte, 25)
	binary.LittleEndian.PutUint16(r, d.entryID)
	binary.LittleEndian.PutUint32(r[4:], uint32(pid))
	return r
}

func TestDecodeSyntheticPage(t *testing.T) {
	d := loadDecoder(t)
	evs, st, err := d.decodePage(syntheticPage(d), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint64{1010, 1013 + 2<<27, 1018 + 2<<27, 7 + 1<<27}
	if len(evs) != len(want) || st.Lost != 42 || st.Skipped != 1 {
		t.Fatalf("events %+v, stats %+v", evs, st)
	}
	for i, e := range evs {
		if e.TS != want[i] || e.Kind != KindEntry {
			t.Errorf("event %d: %+v, want ts %d", i, e, want[i])
		}
	}
	// Padding with no delta ends the page.
	var e pageBuilder
	e.word(typePadding)
	e.small(0, entryRecord(d, 5))
	if evs, _, err := d.decodePage(e.page(0, 0, nil), nil); err != nil || len(evs) != 0 {
		t.Errorf("after end padding: %v, %v", evs, err)
	}
}

// syntheticPage has one record of each kind the ring buffer writes:
// small and long events, a time extend, a discarded event, an event of
// another type, an absolute time stamp, and a count of lost events.
func syntheticPage(d *decoder) []byte {
	var b pageBuilder
	b.small(10, entryRecord(d, 5)) // ts 1010
	b.word(typeTimeExtend | 3<<5)  // +3 + 2<<27
	b.word(2)                      //
	b.small(0, entryRecord(d, 5))  // ts 1013 + 2<<27
	b.word(typePadding | 4<<5)     // a discarded event: 12 bytes in all,
	b.word(8)                      // 8 after the header
	b.data = append(b.data, make([]byte, 4)...)
	b.long(1, entryRecord(d, 6))         // +4 +1
	b.small(1, []byte{0xff, 0xff, 0, 0}) // another event: skipped
	b.word(typeTimeStamp | 7<<5)         // absolute 7 + 1<<27
	b.word(1)
	b.small(0, entryRecord(d, 6))
	lost := binary.LittleEndian.AppendUint64(nil, 42)
	return b.page(1000, missedEvents|missedStored, lost)
}

func TestDecodeBadPages(t *testing.T) {
	d := loadDecoder(t)
	good, err := os.ReadFile("testdata/pio10.page")
	if err != nil {
		t.Fatal(err)
	}
	bad := func(mut func(p []byte) []byte) []byte { return mut(bytes.Clone(good)) }
	for name, p := range map[string][]byte{
		"short":         good[:10],
		"commit beyond": bad(func(p []byte) []byte { binary.LittleEndian.PutUint64(p[8:], 5000); return p }),
		"record beyond": bad(func(p []byte) []byte { binary.LittleEndian.PutUint32(p[16:], 28); return p[:40] }),
		"long length":   bad(func(p []byte) []byte { binary.LittleEndian.PutUint64(p[16:], 0xffffff0000000000); return p }),
	} {
		if _, _, err := d.decodePage(p, nil); !errors.Is(err, errPage) {
			t.Errorf("%s: err %v, want errPage", name, err)
		}
	}
}

func TestDecodeDoesNotAllocate(t *testing.T) {
	d := loadDecoder(t)
	page, err := os.ReadFile("testdata/cpuid20.page")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]Event, 0, 128)
	p := newPairer([]int{149})
	evs, _, _ := d.decodePage(page, buf)
	for i := range evs { // first sight of each reason allocates its row
		p.add(&evs[i])
	}
	if n := testing.AllocsPerRun(100, func() {
		evs, _, _ := d.decodePage(page, buf[:0])
		for i := range evs {
			p.add(&evs[i])
		}
	}); n != 0 {
		t.Fatalf("decoding and pairing a page allocates %.1f times", n)
	}
}

func FuzzDecodePage(f *testing.F) {
	d := loadDecoder(f)
	for _, c := range []string{"cpuid20", "pio10"} {
		page, err := os.ReadFile(filepath.Join("testdata", c+".page"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(page)
	}
	f.Add(syntheticPage(d))
	f.Fuzz(func(t *testing.T, page []byte) {
		evs, _, _ := d.decodePage(page, nil)
		p := newPairer([]int{149, 169})
		for i := range evs {
			if evs[i].Kind < KindExit || evs[i].Kind > KindUserspaceExit {
				t.Fatalf("event of kind %d", evs[i].Kind)
			}
			p.add(&evs[i])
		}
		p.finish()
		p.rows(&reasonNames{})
	})
}

func FuzzParseFormat(f *testing.F) {
	for _, n := range eventNames {
		data, err := os.ReadFile(filepath.Join("testdata", n+".format"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ef, err := parseFormat(data)
		if err != nil {
			return
		}
		namesFrom(ef).name(keyOf(isaSVM, 0x72))
		if ef.fields["common_type"].size > 0 {
			newDecoder(ef, ef, ef)
		}
	})
}

func TestPerCPUBufferKB(t *testing.T) {
	for _, c := range []struct{ ncpu, want int }{{0, 4096}, {2, 4096}, {64, 4096}, {128, 2048}, {1024, 1408}} {
		if got := perCPUBufferKB(c.ncpu); got != c.want {
			t.Errorf("perCPUBufferKB(%d) = %d, want %d", c.ncpu, got, c.want)
		}
	}
}

// TestStartUnavailable: where tracefs is missing, or has no kvm events,
// Start says so with an error wrapping ErrUnavailable.
func TestStartUnavailable(t *testing.T) {
	saved := mountPoints
	defer func() { mountPoints = saved }()
	dir := t.TempDir()
	mountPoints = []string{filepath.Join(dir, "none")}
	_, err := Start([]int{1})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "not") {
		t.Fatalf("no tracefs: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "instances"), 0o755); err != nil {
		t.Fatal(err)
	}
	mountPoints = []string{dir}
	_, err = Start([]int{1})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no kvm:kvm_exit event") {
		t.Fatalf("tracefs without kvm events: %v", err)
	}
}

func TestInstanceNames(t *testing.T) {
	if n := instanceName(42, 1); n != "kvmscope-42" {
		t.Errorf("first instance %q", n)
	}
	if n := instanceName(42, 3); n != "kvmscope-42-3" {
		t.Errorf("third instance %q", n)
	}
	for name, want := range map[string]int{"kvmscope-42": 42, "kvmscope-42-3": 42, "kvmscope-x": 0, "other-42": 0, "kvmscope--1": 0} {
		if pid, ok := instancePID(name); pid != want || ok != (want != 0) {
			t.Errorf("instancePID(%q) = %d, %v", name, pid, ok)
		}
	}
}

func TestStartNoThreads(t *testing.T) {
	if _, err := Start(nil); err == nil || !strings.Contains(err.Error(), "no threads") {
		t.Fatalf("Start(nil): %v", err)
	}
}

// TestPairInterleavedThreads: two vCPU threads' events interleave in
// time; each exit pairs with its own thread's next entry.
func TestPairInterleavedThreads(t *testing.T) {
	ev := func(ts uint64, pid int32, k Kind, reason uint32) Event {
		return Event{TS: ts, PID: pid, Kind: k, ISA: isaSVM, Reason: reason}
	}
	evs := []Event{
		ev(100, 1, KindExit, 0x72),
		ev(110, 2, KindExit, 0x7b),
		ev(120, 2, KindUserspaceExit, 2),
		ev(150, 1, KindEntry, 0), // thread 1: cpuid, 50 ns in kernel
		ev(160, 1, KindExit, 0x72),
		ev(610, 2, KindEntry, 0), // thread 2: io, 500 ns round trip
		ev(170, 1, KindEntry, 0), // out of order is the caller's to sort; 10 ns
	}
	p := newPairer([]int{1, 2})
	for i := range evs {
		p.add(&evs[i])
	}
	rows := p.rows(&reasonNames{svm: map[uint32]string{0x72: "cpuid", 0x7b: "io"}})
	if len(rows) != 2 || p.unpaired != 0 {
		t.Fatalf("rows %+v, unpaired %d", rows, p.unpaired)
	}
	for _, r := range rows {
		switch r.Reason {
		case "cpuid":
			if r.Kernel != 2 || r.KernelSum != 60 || r.User != 0 {
				t.Errorf("cpuid %+v", r)
			}
		case "io":
			if r.User != 1 || r.UserSum != 500 || r.Kernel != 0 {
				t.Errorf("io %+v", r)
			}
		}
	}
}

// TestPairLockedWatermark: events read from several CPUs are paired in
// time order up to the watermark; younger ones wait for the next round.
func TestPairLockedWatermark(t *testing.T) {
	tr := &Tracer{p: newPairer([]int{1})}
	// A thread that migrated: its exit was read from one CPU after its
	// entry from another.
	tr.pending = []Event{
		{TS: 200, PID: 1, Kind: KindEntry},
		{TS: 300, PID: 1, Kind: KindExit, ISA: isaSVM, Reason: 0x72},
		{TS: 100, PID: 1, Kind: KindExit, ISA: isaSVM, Reason: 0x72},
		{TS: 900, PID: 1, Kind: KindEntry},
	}
	tr.pairLocked(500)
	if len(tr.pending) != 1 || tr.pending[0].TS != 900 || tr.events != 3 {
		t.Fatalf("pending %+v, %d events paired", tr.pending, tr.events)
	}
	tr.pairLocked(^uint64(0))
	rows := tr.p.rows(&reasonNames{})
	if len(rows) != 1 || rows[0].Kernel != 2 || rows[0].KernelSum != 100+600 {
		t.Fatalf("rows %+v", rows)
	}
}
