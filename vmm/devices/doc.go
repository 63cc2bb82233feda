// Package devices holds the port-I/O and MMIO bus of the VMM and the legacy
// PC devices a guest expects to find on it: the 8250/16550A UART, the i8042
// reset line, the chipset's reset control register (0xcf9), the CMOS/RTC,
// the debug-exit port and a sink for POST codes.
//
// Devices are plain structs driven through Read/Write(off, data) by the
// vCPU threads on their exit path, so they need no KVM to be tested. A
// guest access a device does not understand (bad offset or width) is
// counted in the device's Missed counter and otherwise ignored: a guest
// must never be able to crash the VMM through a port.
package devices
