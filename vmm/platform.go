package vmm

import "github.com/kvmscope/kvmscope/vmm/devices"

// The legacy PC ports kvmscope's guests find.
const (
	portCOM1      = 0x3f8
	portDebugExit = 0xf4
	portPOST      = 0x80
	portKbdData   = 0x60
	portKbdCmd    = 0x64
	portCMOS      = 0x70
)

// wireDevices builds the port-I/O and MMIO buses. The in-kernel PIC, PIT
// and IOAPIC own their ports inside KVM and never reach these buses.
func (m *Machine) wireDevices() error {
	m.pio, m.mmio = devices.NewBus("pio"), devices.NewBus("mmio")
	m.serial = devices.NewSerial(m.cfg.Console)
	m.doorbell = new(devices.Doorbell)
	m.window, m.pioWindow = devices.NewDataWindow(windowSize), devices.NewDataWindow(8)
	low := min(m.cfg.MemSize, lowRAMLimit)
	kbd := devices.NewI8042(func() {
		m.requestStop(Stop{Kind: StopReset, VCPU: -1, Detail: "the guest pulsed the i8042 reset line"})
	})
	for _, d := range []struct {
		base, size uint64
		name       string
		dev        devices.Device
	}{
		{portKbdData, 1, "i8042 data", kbd.DataPort()},
		{portKbdCmd, 1, "i8042 command", kbd.CommandPort()},
		{portCMOS, 2, "cmos", devices.NewCMOS(nil, low, m.cfg.MemSize-low)},
		{portPOST, 1, "post", devices.NewSink()},
		{portDebugExit, 1, "debug-exit", devices.NewDebugExit(m.guestExit)},
		{portCOM1, 8, "serial", m.serial},
		{portDoorbell, 4, "doorbell", m.doorbell},
		{portWindowFlush, 1, "window flush", m.window.FlushPort()},
		{portPIOWindow, 8, "pio window", m.pioWindow},
	} {
		if _, err := m.pio.Register(d.base, d.size, d.name, d.dev); err != nil {
			return err
		}
	}
	if _, err := m.mmio.Register(mmioWindow, windowSize, "data window", m.window); err != nil {
		return err
	}
	if m.requested.Has(ExtIRQChip) {
		// COM1's interrupt goes to the in-kernel PIC/IOAPIC pin 4.
		m.serial.IRQ = func(level bool) { m.vm.IRQLine(4, level) }
	} else if err := m.wireUserIRQ(); err != nil {
		return err
	}
	m.pio.Freeze()
	m.mmio.Freeze()
	return nil
}

// guestExit is the debug-exit port's callback: the guest's status byte
// ends the run.
func (m *Machine) guestExit(status uint8) {
	m.requestStop(Stop{Kind: StopGuestExit, Status: status, VCPU: -1})
}

// Serial is the machine's COM1, for feeding the guest input.
func (m *Machine) Serial() *devices.Serial { return m.serial }
