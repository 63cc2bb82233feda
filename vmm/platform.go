package vmm

import (
	"encoding/binary"
	"time"

	"github.com/kvmscope/kvmscope/vmm/boot"
	"github.com/kvmscope/kvmscope/vmm/devices"
)

// The legacy PC ports kvmscope's guests find, and those of QEMU's
// firmware interface and test devices that kvm-unit-tests expects.
const (
	portCOM1      = 0x3f8
	portDebugExit = 0xf4
	portPOST      = 0x80
	portKbdData   = 0x60
	portKbdCmd    = 0x64
	portCMOS      = 0x70
	portFwCfg     = 0x510 // selector, then data at 0x511
	portResetCtl  = 0xcf9
)

// bootFailWait is fw_cfg's etc/boot-fail-wait, QEMU's `-boot
// reboot-timeout`: how many milliseconds SeaBIOS waits after "No bootable
// device" before it resets the machine. kvmscope gives a firmware image no
// disk, so nothing will ever boot; 0 makes the reset, which ends the run
// with the guest-reset status, follow at once instead of after SeaBIOS's
// own default of 60 s (without the file) or never (QEMU's default, -1).
const bootFailWait = 0

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
	rcr := devices.NewResetControl(func() {
		m.requestStop(Stop{Kind: StopReset, VCPU: -1, Detail: "the guest wrote the reset control register (0xcf9)"})
	})
	start := time.Now()
	pmTimer := devices.NewPMTimer(func() time.Duration { return time.Since(start) })
	testdev := devices.NewPCTestDev(m.flushPage, m.setISAIRQ)
	fwcfg := devices.NewFwCfg(m.cfg.MemSize, m.cfg.CPUs)
	if err := fwcfg.AddFile("etc/boot-fail-wait", binary.LittleEndian.AppendUint32(nil, bootFailWait)); err != nil {
		return err
	}
	for _, d := range []struct {
		base, size uint64
		name       string
		dev        devices.Device
	}{
		{portKbdData, 1, "i8042 data", kbd.DataPort()},
		{portKbdCmd, 1, "i8042 command", kbd.CommandPort()},
		{portResetCtl, 1, "reset control", rcr},
		{portCMOS, 2, "cmos", devices.NewCMOS(nil, low, m.cfg.MemSize-low)},
		{portPOST, 1, "post", devices.NewSink()},
		{portDebugExit, 1, "debug-exit", devices.NewDebugExit(m.guestExit)},
		{portCOM1, 8, "serial", m.serial},
		{portDoorbell, 4, "doorbell", m.doorbell},
		{portWindowFlush, 1, "window flush", m.window.FlushPort()},
		{portPIOWindow, 8, "pio window", m.pioWindow},
		{portFwCfg, 2, "fw_cfg", fwcfg},
		{boot.PMTimerPort, 4, "acpi pm timer", pmTimer},
		{boot.SleepControlPort, 2, "acpi sleep control", devices.NewSleepControl(boot.SleepTypeS5, func() {
			m.requestStop(Stop{Kind: StopPowerOff, VCPU: -1, Detail: "ACPI S5 (soft-off) through the sleep control register"})
		})},
		{devices.PCTestIOPort, 4, "testdev io", testdev.IOPort()},
		{devices.PCTestFlushPort, 4, "testdev flush", testdev.FlushPort()},
		{devices.PCTestBytePort, 4, "testdev io byte", testdev.IOPort()},
		{devices.PCTestIRQPort, devices.PCTestIRQLines, "testdev irq", testdev.IRQPort()},
	} {
		if _, err := m.pio.Register(d.base, d.size, d.name, d.dev); err != nil {
			return err
		}
	}
	if _, err := m.mmio.Register(mmioWindow, windowSize, "data window", m.window); err != nil {
		return err
	}
	if _, err := m.mmio.Register(devices.PCTestIOMemBase, devices.PCTestIOMemSize, "testdev iomem", testdev.IOMem()); err != nil {
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

// setISAIRQ sets an ISA interrupt line for pc-testdev's IRQ ports: an
// in-kernel irqchip pin (the PIC's and IOAPIC's), or kvmscope's own PIC's
// for lines 0-15 without one.
func (m *Machine) setISAIRQ(line int, level bool) {
	switch {
	case m.userIRQ != nil && line < 16:
		m.userIRQ.pic.SetIRQ(line, level)
	case m.userIRQ == nil && m.vm != nil:
		m.vm.IRQLine(uint32(line), level)
	}
}

// flushPage is pc-testdev's page flush: it revokes and restores the host
// mapping of the RAM page at gpa. The kernel's MMU notifier then drops
// KVM's shadow or nested page-table entry for it, so that the guest's next
// access to the page faults into KVM, which is what the tests that write
// the port want to provoke.
func (m *Machine) flushPage(gpa uint64) { m.mem.flushPage(gpa) }
