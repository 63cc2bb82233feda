package vmm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvmscope/kvmscope/vmm/boot"
	"github.com/kvmscope/kvmscope/vmm/devices"
	"github.com/kvmscope/kvmscope/vmm/exitstats"
	"github.com/kvmscope/kvmscope/vmm/ktrace"
	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// Machine is one virtual machine: built by New, given an image by Load,
// run by Run, released by Close.
type Machine struct {
	cfg   Config
	sys   *kvm.System
	vm    *kvm.VM
	mem   memory
	ram   []byte // low RAM, from guest-physical 0
	cpuid []kvm.CPUIDEntry

	pio, mmio *devices.Bus
	serial    *devices.Serial
	keys      exitstats.Keys
	exitKeys  [kvm.NumExitReasons]exitstats.Key
	intrKey   exitstats.Key
	pioKeys   []exitstats.Key // by pio bus index
	pioNone   exitstats.Key   // ports nobody claims
	mmioKeys  []exitstats.Key
	mmioNone  exitstats.Key
	romKey    exitstats.Key // writes to read-only memory, dropped
	romWrites romWrites

	// KVM's trace events (exittrace.go): the reader, or why there is none.
	trace    *ktrace.Tracer
	traceErr error

	// Host extensions (ext_apply.go).
	requested, offered, active Extensions
	extMu                      sync.Mutex
	warnings                   []string
	doorbell                   *devices.Doorbell
	window, pioWindow          *devices.DataWindow
	doorbellFD                 *os.File
	ring                       *kvm.CoalescedRing
	replay                     func(*kvm.CoalescedEntry) // m.replayCoalesced, bound once
	draining                   atomic.Bool
	ringKey                    exitstats.Key
	userIRQ                    *userIRQ // without the in-kernel irqchip

	// noAccounting turns exit accounting off, for the benchmark that
	// measures what accounting costs (export_test.go); always on otherwise.
	noAccounting bool

	// firstEntry and stopped time the guest's run: from vCPU 0's first
	// KVM_RUN to the stop request, in ns since the Unix epoch.
	firstEntry, stoppedAt atomic.Int64

	image     *boot.Image
	vcpus     []*VCPU
	wg        sync.WaitGroup
	stop      atomic.Pointer[Stop]
	stopCh    chan struct{}
	startedCh chan struct{}
	ran       bool
}

// New builds a machine: guest RAM and the PC devices. It does not touch
// KVM yet, so that a bad image is refused before any KVM call; Run
// creates the VM.
func New(cfg Config) (*Machine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Console == nil {
		cfg.Console = io.Discard
	}
	m := &Machine{cfg: cfg, stopCh: make(chan struct{}), startedCh: make(chan struct{})}
	m.requested, _ = ParseExtensions(cfg.Ext) // Validate parsed it
	m.replay = m.replayCoalesced
	if err := m.build(); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func (m *Machine) build() error {
	if err := m.allocRAM(); err != nil {
		return err
	}
	if err := m.wireDevices(); err != nil {
		return err
	}
	return m.registerExitKeys()
}

// createVM opens KVM, creates the VM with its in-kernel interrupt
// controllers and maps guest memory into it.
func (m *Machine) createVM() error {
	var err error
	if m.sys, err = kvm.Open(); err != nil {
		return err
	}
	for _, c := range []kvm.Cap{kvm.CapUserMemory, kvm.CapImmediateExit, kvm.CapIRQChip} {
		if m.sys.CheckExtension(c) == 0 {
			return fmt.Errorf("KVM lacks %v, which kvmscope needs", c)
		}
	}
	if m.cpuid, err = m.sys.SupportedCPUID(); err != nil {
		return err
	}
	if m.vm, err = m.sys.CreateVM(); err != nil {
		return err
	}
	if max := m.vm.CheckExtension(kvm.CapMaxVCPUs); max > 0 && m.cfg.CPUs > max {
		return fmt.Errorf("%d vCPUs: this KVM allows at most %d", m.cfg.CPUs, max)
	}
	if err := m.vm.SetIdentityMapAddr(identityMapAddr); err != nil {
		return err
	}
	if err := m.vm.SetTSSAddr(tssAddr); err != nil {
		return err
	}
	if err := m.mem.mapInto(m.vm); err != nil {
		return err
	}
	return m.applyCreateExtensions()
}

func (m *Machine) allocRAM() error {
	low := min(m.cfg.MemSize, lowRAMLimit)
	ram, mapping, err := allocRAM(low)
	if err != nil {
		return err
	}
	m.mem.add(slot{name: "ram", gpa: 0, mem: ram, mapping: mapping})
	m.ram = ram
	if high := m.cfg.MemSize - low; high > 0 {
		hram, mapping, err := allocRAM(high)
		if err != nil {
			return err
		}
		m.mem.add(slot{name: "high ram", gpa: highRAMBase, mem: hram, mapping: mapping})
	}
	return nil
}

// registerExitKeys names every row of the exit table before any vCPU runs.
func (m *Machine) registerExitKeys() error {
	var err error
	add := func(kind, name string) exitstats.Key {
		k, e := m.keys.Add(kind, name)
		if err == nil {
			err = e
		}
		return k
	}
	for r := kvm.ExitReason(0); r < kvm.NumExitReasons; r++ {
		if r == kvm.ExitIO || r == kvm.ExitMMIO {
			continue
		}
		if name := r.String(); name[0] != 'E' { // skip "ExitReason(n)" gaps
			m.exitKeys[r] = add("exit", name)
		}
	}
	m.intrKey = add("signal", "EINTR (kick or signal)")
	for i := 0; i < m.pio.Len(); i++ {
		m.pioKeys = append(m.pioKeys, add("io", fmt.Sprintf("IO %#x %s", m.pio.Base(i), m.pio.Name(i))))
	}
	m.pioNone = add("io", "IO unclaimed port")
	for i := 0; i < m.mmio.Len(); i++ {
		m.mmioKeys = append(m.mmioKeys, add("mmio", fmt.Sprintf("MMIO %#x %s", m.mmio.Base(i), m.mmio.Name(i))))
	}
	m.mmioNone = add("mmio", "MMIO unclaimed")
	m.romKey = add("mmio", "MMIO write to ROM (dropped)")
	m.ringKey = add("ring", "coalesced writes (no exit)")
	m.keys.Freeze()
	return err
}

// Load places a guest image in memory and records how vCPU 0 starts.
func (m *Machine) Load(image []byte) (*boot.Image, error) {
	if m.image != nil {
		return nil, errors.New("machine already has an image")
	}
	img, err := boot.LoadWith(image, m.ram, m.bootOptions())
	if err != nil {
		return nil, err
	}
	for _, r := range img.Regions {
		// KVM wants page-aligned host memory, which a Go slice does not promise.
		host, mapping, err := allocRAM(uint64(len(r.Data)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Name, err)
		}
		copy(host, r.Data)
		m.mem.add(slot{name: r.Name, gpa: r.GPA, mem: host, readOnly: r.ReadOnly, mapping: mapping})
	}
	m.image = img
	return img, nil
}

// Run starts the vCPUs and returns when the machine stops: the guest
// exits, resets or faults, ctx ends, or kvmscope fails. A machine runs once.
func (m *Machine) Run(ctx context.Context) Stop {
	if m.image == nil {
		return Stop{Kind: StopError, VCPU: -1, Err: errors.New("no image loaded")}
	}
	if m.ran {
		return Stop{Kind: StopError, VCPU: -1, Err: errors.New("machine already ran")}
	}
	m.ran = true
	if err := m.createVM(); err != nil {
		return Stop{Kind: StopError, VCPU: -1, Err: err}
	}
	if m.userIRQ != nil {
		go m.userIRQ.timer(m.stopCh)
	}
	defer reserveProcs(m.cfg.CPUs)()
	setupExitClock()
	m.startVCPUs() // a failure is recorded as the stop
	select {
	case <-m.stopCh:
	case <-ctx.Done():
		kind := StopCanceled
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			kind = StopTimeout
		}
		m.requestStop(Stop{Kind: kind, VCPU: -1})
	}
	m.wg.Wait()
	m.stopTrace()
	return *m.stop.Load()
}

// requestStop records the first reason to stop and kicks every vCPU out
// of the guest. Later reasons are dropped: the first one is the cause.
func (m *Machine) requestStop(s Stop) {
	if !m.stop.CompareAndSwap(nil, &s) {
		return
	}
	m.stoppedAt.Store(time.Now().UnixNano())
	close(m.stopCh)
	for _, v := range m.vcpus {
		v.kick()
	}
}

// GuestTime is how long the guest ran: from vCPU 0's first entry to the
// stop, so that building the VM is not counted. Zero before the stop.
func (m *Machine) GuestTime() time.Duration {
	first, end := m.firstEntry.Load(), m.stoppedAt.Load()
	if first == 0 || end < first {
		return 0
	}
	return time.Duration(end - first)
}

// stopping reports whether a stop was requested.
func (m *Machine) stopping() bool { return m.stop.Load() != nil }

// Started is closed once Run has created every vCPU; from then on VCPUs
// is complete.
func (m *Machine) Started() <-chan struct{} { return m.startedCh }

// VCPUs returns the machine's vCPUs; complete once Started is closed.
func (m *Machine) VCPUs() []*VCPU {
	select {
	case <-m.startedCh:
		return m.vcpus
	default:
		return nil
	}
}

// CPUs is the number of vCPUs the machine has (or will have).
func (m *Machine) CPUs() int { return m.cfg.CPUs }

// ReadPhys reads guest-physical memory; safe while the guest runs.
func (m *Machine) ReadPhys(gpa uint64, buf []byte) (int, error) { return m.mem.ReadPhys(gpa, buf) }

// WritePhys writes guest RAM. Only while the vCPUs are stopped (or before
// they start) is the result well defined.
func (m *Machine) WritePhys(gpa uint64, buf []byte) (int, error) { return m.mem.WritePhys(gpa, buf) }

// ExitStats sums the exit tables of all vCPUs, sorted by key.
func (m *Machine) ExitStats() []exitstats.Row {
	acc := map[exitstats.Key]*exitstats.Row{}
	for _, v := range m.vcpus {
		v.stats.Snapshot(&m.keys, acc)
	}
	rows := make([]exitstats.Row, 0, len(acc))
	for k := exitstats.Key(0); int(k) < m.keys.Len(); k++ {
		if r := acc[k]; r != nil {
			rows = append(rows, *r)
		}
	}
	return rows
}

// Close releases the vCPUs, the VM and guest memory. Call it after Run.
func (m *Machine) Close() error {
	if s := m.stop.Load(); s == nil && m.ran {
		m.requestStop(Stop{Kind: StopCanceled, VCPU: -1})
		m.wg.Wait()
	}
	m.stopTrace()
	if m.doorbellFD != nil {
		m.doorbellFD.Close()
	}
	for _, v := range m.vcpus {
		if v.kstats != nil {
			v.kstats.Close()
		}
		if v.kv != nil {
			v.kv.Close()
		}
	}
	if m.vm != nil {
		m.vm.Close()
	}
	m.mem.release()
	if m.sys != nil {
		m.sys.Close()
	}
	return nil
}
