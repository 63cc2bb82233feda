package ktrace

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kvmscope/kvmscope/vmm/exitstats"
)

// ErrUnavailable is wrapped by Start's errors that say this host cannot
// trace (no tracefs, not root, no kvm events), as opposed to failures.
var ErrUnavailable = errors.New("tracefs unavailable")

// Where tracefs is mounted: its own mount point, or under debugfs on
// older setups.
var mountPoints = []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}

// The events read, under events/kvm/.
var eventNames = [3]string{"kvm_exit", "kvm_entry", "kvm_userspace_exit"}

const (
	// pollEvery is how often the per-CPU buffers are drained while the
	// guest runs; the buffers hold far more than this many events.
	pollEvery = 20 * time.Millisecond
	// margin holds back events this close to now: an event on another
	// CPU may still be being written with an earlier time stamp, and a
	// thread's events must be paired in time order.
	margin = 50 * time.Millisecond
	// bufferKB is the per-CPU buffer of the instance: about 40000 exits'
	// worth of events (kvm_exit, kvm_entry and maybe kvm_userspace_exit,
	// ~100 bytes together), so that the reader, which runs at the lowest
	// priority, may fall behind on a busy host without losing events.
	// Hosts with many CPUs get less per CPU (totalBufferKB in all), but
	// never less than tracefs's own default.
	bufferKB      = 4096
	totalBufferKB = 256 << 10
	minBufferKB   = 1408
	// readerNice is the reader thread's nice value: it takes CPU time
	// the vCPUs leave, rather than from them.
	readerNice = 19
	// instancePrefix names our instances: instances/kvmscope-PID[-SEQ].
	instancePrefix = "kvmscope-"
)

// Snapshot is the per-reason table so far and what may make it short.
type Snapshot struct {
	Rows []exitstats.ReasonRow
	// Events is how many kvm events of the vCPU threads were read.
	Events uint64
	// Lost is how many events the ring buffer dropped (the reader fell
	// behind); BadPages counts pages that did not decode. Either makes
	// the counts lower bounds.
	Lost, BadPages uint64
	// Unpaired counts exits with no entry after them.
	Unpaired uint64
}

// Tracer reads one machine's vCPU threads' KVM events from a private
// tracefs instance until Close.
type Tracer struct {
	inst  string // the instance's folder
	dec   *decoder
	names *reasonNames
	fds   []int // per-CPU trace_pipe_raw, non-blocking
	page  []byte

	mu       sync.Mutex
	pending  []Event // read, not yet old enough to pair
	scratch  []Event // one page's events
	p        *pairer
	events   uint64
	lost     uint64
	badPages uint64
	readErr  error
	closed   bool

	stop chan struct{}
	done chan struct{}
}

// Start creates the instance, restricts it to the threads tids, enables
// the three events and starts reading. Its error wraps ErrUnavailable
// when the host cannot trace, saying why.
func Start(tids []int) (*Tracer, error) {
	if len(tids) == 0 {
		// An empty set_event_pid would trace every process's exits.
		return nil, errors.New("exit tracing: no threads to trace")
	}
	root, err := findTracefs()
	if err != nil {
		return nil, err
	}
	formats, err := readFormats(filepath.Join(root, "events", "kvm"))
	if err != nil {
		return nil, err
	}
	dec, err := newDecoder(formats[0], formats[1], formats[2])
	if err != nil {
		return nil, fmt.Errorf("kvm trace events: %w", err)
	}
	if err := checkPageLayout(filepath.Join(root, "events", "header_page")); err != nil {
		return nil, err
	}
	removeStaleInstances(filepath.Join(root, "instances"))
	inst := filepath.Join(root, "instances", instanceName(os.Getpid(), instanceSeq.Add(1)))
	if err := os.Mkdir(inst, 0o755); err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("%w: creating a tracefs instance needs root: %v", ErrUnavailable, err)
		}
		return nil, fmt.Errorf("%w: create tracefs instance: %v", ErrUnavailable, err)
	}
	t := &Tracer{inst: inst, dec: dec, names: namesFrom(formats[0]), p: newPairer(tids),
		page: make([]byte, os.Getpagesize()), stop: make(chan struct{}), done: make(chan struct{})}
	if err := t.setup(tids); err != nil {
		t.release()
		return nil, err
	}
	go t.poll()
	return t, nil
}

// findTracefs returns where tracefs is mounted, or why it is not usable.
func findTracefs() (string, error) {
	for _, m := range mountPoints {
		if st, err := os.Stat(filepath.Join(m, "instances")); err == nil && st.IsDir() {
			return m, nil
		}
	}
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("%w: not root (tracefs is root's; %s not readable)", ErrUnavailable, mountPoints[0])
	}
	return "", fmt.Errorf("%w: tracefs is not mounted at %s (mount -t tracefs tracefs %[2]s)", ErrUnavailable, mountPoints[0])
}

// readFormats parses the three events' format files.
func readFormats(dir string) ([3]*eventFormat, error) {
	var out [3]*eventFormat
	for i, name := range eventNames {
		data, err := os.ReadFile(filepath.Join(dir, name, "format"))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return out, fmt.Errorf("%w: no kvm:%s event (kvm module not loaded, or built without trace points)", ErrUnavailable, name)
			}
			return out, fmt.Errorf("%w: kvm:%s format: %v", ErrUnavailable, name, err)
		}
		if out[i], err = parseFormat(data); err != nil {
			return out, fmt.Errorf("kvm:%s: %w", name, err)
		}
	}
	return out, nil
}

// checkPageLayout refuses a ring buffer whose page header is not the one
// the decoder reads (a 32-bit kernel's, say).
func checkPageLayout(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: ring buffer page layout: %v", ErrUnavailable, err)
	}
	// header_page has no name or ID lines; fake them to reuse the parser.
	f, err := parseFormat(append([]byte("name: header_page\nID: 0\n"), data...))
	if err != nil {
		return fmt.Errorf("ring buffer page layout: %w", err)
	}
	if f.fields["timestamp"] != (field{0, 8, false}) || f.fields["commit"].offset != 8 ||
		f.fields["commit"].size != 8 || f.fields["data"].offset != pageHeaderSize {
		return fmt.Errorf("%w: ring buffer page header is not the 64-bit layout this reader decodes", ErrUnavailable)
	}
	return nil
}

// instanceSeq numbers the tracers of this process: machines that trace
// at the same time (tests, say) each need an instance.
var instanceSeq atomic.Int64

// instanceName is kvmscope-PID for a process's first tracer and
// kvmscope-PID-SEQ for the next ones.
func instanceName(pid int, seq int64) string {
	name := instancePrefix + strconv.Itoa(pid)
	if seq > 1 {
		name += "-" + strconv.FormatInt(seq, 10)
	}
	return name
}

// instancePID is the process that made an instance of ours.
func instancePID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, instancePrefix)
	if !ok {
		return 0, false
	}
	rest, _, _ = strings.Cut(rest, "-")
	pid, err := strconv.Atoi(rest)
	return pid, err == nil && pid > 0
}

// removeStaleInstances removes instances left by kvmscope processes that
// died without closing theirs (an instance outlives its process).
func removeStaleInstances(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		pid, ok := instancePID(e.Name())
		if !ok || pid == os.Getpid() {
			continue
		}
		if unix.Kill(pid, 0) == unix.ESRCH {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// setup configures the instance: the clock, the buffer, the threads, the
// events; then opens the per-CPU buffers.
func (t *Tracer) setup(tids []int) error {
	// mono is CLOCK_MONOTONIC, which the reader can read too (margin).
	if err := t.write("trace_clock", "mono"); err != nil {
		return err
	}
	if err := t.write("buffer_size_kb", strconv.Itoa(perCPUBufferKB(runtime.NumCPU()))); err != nil {
		return err
	}
	pids := make([]string, len(tids))
	for i, tid := range tids {
		pids[i] = strconv.Itoa(tid)
	}
	if err := t.write("set_event_pid", strings.Join(pids, " ")); err != nil {
		return err
	}
	for _, e := range eventNames {
		if err := t.write(filepath.Join("events", "kvm", e, "enable"), "1"); err != nil {
			return err
		}
	}
	cpus, err := filepath.Glob(filepath.Join(t.inst, "per_cpu", "cpu*", "trace_pipe_raw"))
	if err != nil || len(cpus) == 0 {
		return fmt.Errorf("%w: tracefs instance has no per-CPU buffers", ErrUnavailable)
	}
	for _, c := range cpus {
		fd, err := unix.Open(c, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", c, err)
		}
		t.fds = append(t.fds, fd)
	}
	return nil
}

func (t *Tracer) write(file, value string) error {
	if err := os.WriteFile(filepath.Join(t.inst, file), []byte(value), 0); err != nil {
		return fmt.Errorf("tracefs instance %s: write %q to %s: %w", filepath.Base(t.inst), value, file, err)
	}
	return nil
}

// perCPUBufferKB sizes each CPU's buffer for a host of ncpu CPUs.
func perCPUBufferKB(ncpu int) int {
	return max(minBufferKB, min(bufferKB, totalBufferKB/max(ncpu, 1)))
}

// poll drains the buffers and pairs what is old enough, until Close. It
// runs on a thread of its own at the lowest priority (the thread ends
// with the goroutine, so the priority goes with it).
func (t *Tracer) poll() {
	defer close(t.done)
	runtime.LockOSThread()
	unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), readerNice) // best effort
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
			t.mu.Lock()
			t.drainLocked()
			t.pairLocked(monoNow() - uint64(margin))
			t.mu.Unlock()
		}
	}
}

// drainLocked reads every per-CPU buffer until it is empty.
func (t *Tracer) drainLocked() {
	for _, fd := range t.fds {
		for {
			n, err := unix.Read(fd, t.page)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil || n <= 0 {
				if err != nil && !errors.Is(err, unix.EAGAIN) && t.readErr == nil {
					t.readErr = fmt.Errorf("read trace_pipe_raw: %w", err)
				}
				break
			}
			var st PageStats
			t.scratch, st, err = t.dec.decodePage(t.page[:n], t.scratch[:0])
			if err != nil {
				t.badPages++
			}
			if st.Lost > 0 {
				t.lost += st.Lost
				// The events lost came before this page: the pairs across
				// the gap cannot be trusted. Pair what came before it and
				// drop the exits left open.
				t.pairLocked(^uint64(0))
				t.p.forget()
			}
			t.pending = append(t.pending, t.scratch...)
		}
	}
}

// pairLocked pairs the pending events up to time wm in time order and
// keeps the younger ones for the next round.
func (t *Tracer) pairLocked(wm uint64) {
	slices.SortStableFunc(t.pending, func(a, b Event) int {
		switch {
		case a.TS < b.TS:
			return -1
		case a.TS > b.TS:
			return 1
		}
		return 0
	})
	i := 0
	for ; i < len(t.pending) && t.pending[i].TS <= wm; i++ {
		if t.p.threads[t.pending[i].PID] != nil {
			t.events++
		}
		t.p.add(&t.pending[i])
	}
	t.pending = t.pending[:copy(t.pending, t.pending[i:])]
}

// Snapshot returns the table so far. It is safe from any goroutine, also
// after Close (then it is final).
func (t *Tracer) Snapshot() Snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Snapshot{Rows: t.p.rows(t.names), Events: t.events, Lost: t.lost, BadPages: t.badPages, Unpaired: t.p.unpaired}
}

// Err is the first error met reading the buffers or removing the
// instance, if any.
func (t *Tracer) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.readErr
}

// Close stops reading, takes in the last events and removes the
// instance. Call it once the vCPUs have stopped, so that every exit is
// in; calling it again does nothing.
func (t *Tracer) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	close(t.stop)
	<-t.done
	t.mu.Lock()
	defer t.mu.Unlock()
	t.write(filepath.Join("events", "enable"), "0")
	t.drainLocked()
	t.pairLocked(^uint64(0))
	t.p.finish()
	err := t.release()
	if err != nil && t.readErr == nil {
		t.readErr = err
	}
	return err
}

// release closes the buffers and removes the instance, which tracefs
// refuses while a file of it is open.
func (t *Tracer) release() error {
	for _, fd := range t.fds {
		unix.Close(fd)
	}
	t.fds = nil
	if err := os.Remove(t.inst); err != nil {
		return fmt.Errorf("remove tracefs instance: %w", err)
	}
	return nil
}

// monoNow is CLOCK_MONOTONIC in ns: the instance's "mono" trace clock.
func monoNow() uint64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}
