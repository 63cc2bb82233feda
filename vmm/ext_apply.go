package vmm

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// The devices the extensions act on (platform.go wires them).
const (
	portDoorbell    = 0x500 // 4 bytes: ioeventfd's case
	portWindowFlush = 0x504
	portPIOWindow   = 0x508 // 8 bytes: coalesced PIO's case
	mmioWindow      = 0xd0001000
	windowSize      = 64
)

// applyCreateExtensions sets up what must exist before the vCPUs:
// irqchip, HLT passthrough, halt polling; then the live ones.
func (m *Machine) applyCreateExtensions() error {
	m.offered = OfferedExtensions(m.sys)
	m.active = m.requested & m.offered
	if m.requested.Has(ExtIRQChip) && !m.offered.Has(ExtIRQChip) {
		return fmt.Errorf("host extension irqchip: this host's KVM lacks it (IRQCHIP/PIT2); run with --ext -irqchip")
	}
	for _, e := range AllExtensions() {
		if m.requested.Has(e) && !m.offered.Has(e) {
			m.warnings = append(m.warnings, fmt.Sprintf("host extension %v: this host's KVM does not offer it; running without", e))
		}
	}
	if m.active.Has(ExtIRQChip) {
		if err := m.vm.CreateIRQChip(); err != nil {
			return err
		}
		if err := m.vm.CreatePIT2(kvm.PITSpeakerDummy); err != nil {
			return err
		}
	}
	if m.active.Has(ExtHLTPassthrough) {
		if err := m.vm.EnableCap(kvm.CapX86DisableExits, kvm.DisableExitsHLT|kvm.DisableExitsPAUSE); err != nil {
			return err
		}
	}
	for _, e := range []Extension{ExtHaltPoll, ExtIOEventFD, ExtCoalescedMMIO, ExtCoalescedPIO} {
		if m.offered.Has(e) {
			if err := m.switchLive(e, m.active.Has(e)); err != nil {
				return err
			}
		}
	}
	return nil
}

// ActiveExtensions is the set in force; Warnings what was asked but
// not offered.
func (m *Machine) ActiveExtensions() Extensions {
	m.extMu.Lock()
	defer m.extMu.Unlock()
	return m.active
}

// OfferedExtensions is what the host's KVM offers (known once running).
func (m *Machine) OfferedExtensions() Extensions { return m.offered }

// Warnings lists the extensions asked for that the host lacks, and the
// guest's writes to ROM.
func (m *Machine) Warnings() []string {
	w := m.warnings
	if rom := m.romWrites.String(); rom != "" {
		w = append(w[:len(w):len(w)], rom)
	}
	return w
}

// SetExtension switches a live extension while the guest runs.
func (m *Machine) SetExtension(e Extension, on bool) error {
	if !e.Live() {
		return fmt.Errorf("%v applies when the machine is created: restart it with --ext %s%v", e, map[bool]string{true: "+", false: "-"}[on], e)
	}
	if !m.offered.Has(e) {
		return fmt.Errorf("%v: this host's KVM does not offer it", e)
	}
	m.extMu.Lock()
	defer m.extMu.Unlock()
	if m.active.Has(e) == on {
		return nil
	}
	if err := m.switchLive(e, on); err != nil {
		return err
	}
	m.active = m.active.With(e, on)
	return nil
}

func (m *Machine) switchLive(e Extension, on bool) error {
	switch e {
	case ExtHaltPoll:
		ns := uint64(0)
		if on {
			ns = m.cfg.HaltPollNS
			if ns == 0 {
				ns = defaultHaltPollNS
			}
		}
		return m.vm.EnableCap(kvm.CapHaltPoll, ns)
	case ExtIOEventFD:
		return m.switchIOEventFD(on)
	case ExtCoalescedMMIO:
		return m.switchCoalesced(kvm.CoalescedZone{Addr: mmioWindow, Size: windowSize}, on)
	case ExtCoalescedPIO:
		return m.switchCoalesced(kvm.CoalescedZone{Addr: portPIOWindow, Size: 8, Pio: 1}, on)
	}
	return fmt.Errorf("%v is not live-switchable", e)
}

// defaultHaltPollNS is KVM's own default (halt_poll_ns, 200 µs).
const defaultHaltPollNS = 200000

func (m *Machine) switchCoalesced(z kvm.CoalescedZone, on bool) error {
	if on {
		return m.vm.RegisterCoalesced(z)
	}
	// Writes still in the ring belong to the device.
	m.drainCoalesced()
	return m.vm.UnregisterCoalesced(z)
}

// switchIOEventFD puts (or takes) an eventfd on the doorbell port. A
// goroutine turns its counter into rings of the doorbell device.
func (m *Machine) switchIOEventFD(on bool) error {
	if on {
		// Non-blocking, so that os.File reads it through the poller and
		// Close ends a read in progress: a blocking read would hold its
		// goroutine and thread, and keep the fd open, for ever.
		fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
		if err != nil {
			return fmt.Errorf("eventfd for the doorbell: %w", err)
		}
		e := kvm.IOEventFD{Addr: portDoorbell, Len: 4, FD: int32(fd), Flags: kvm.IOEventFDPIO}
		if err := m.vm.IOEventFD(&e); err != nil {
			unix.Close(fd)
			return err
		}
		m.doorbellFD = os.NewFile(uintptr(fd), "doorbell-eventfd")
		go m.doorbellReader(m.doorbellFD)
		return nil
	}
	if m.doorbellFD == nil {
		return nil
	}
	e := kvm.IOEventFD{Addr: portDoorbell, Len: 4, FD: int32(m.doorbellFD.Fd()), Flags: kvm.IOEventFDPIO | kvm.IOEventFDDeassign}
	err := m.vm.IOEventFD(&e)
	m.doorbellFD.Close() // ends the reader
	m.doorbellFD = nil
	return err
}

// doorbellReader adds the rings the kernel counted on the eventfd.
func (m *Machine) doorbellReader(f *os.File) {
	var b [8]byte
	for {
		n, err := f.Read(b[:])
		if err != nil || n != 8 {
			return // closed: the extension was switched off or the machine ended
		}
		m.doorbell.Ring(uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56)
	}
}

// drainCoalesced replays the writes KVM queued in the coalesced ring to
// their devices and returns how many. Any vCPU thread may call it at an
// exit; one drains at a time and the others go on.
func (m *Machine) drainCoalesced() int {
	if m.ring == nil || !m.draining.CompareAndSwap(false, true) {
		return 0
	}
	n := m.ring.Drain(m.replay)
	m.draining.Store(false)
	return n
}

func (m *Machine) replayCoalesced(e *kvm.CoalescedEntry) {
	bus := m.mmio
	if e.PIO != 0 {
		bus = m.pio
	}
	if e.Len == 0 || e.Len > uint32(len(e.Data)) {
		return
	}
	if dev, off, _, ok := bus.Lookup(e.PhysAddr); ok {
		dev.Write(off, e.Data[:e.Len])
	}
}
