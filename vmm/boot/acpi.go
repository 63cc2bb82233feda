package boot

import (
	"encoding/binary"
	"fmt"
)

// The interrupt controllers' MMIO windows, where KVM's in-kernel irqchip
// puts them, as on every PC.
const (
	ioapicAddr = 0xfec00000
	lapicAddr  = 0xfee00000
)

// What the ACPI tables tell the kernel (ACPI 6.x, chapter 5).
const (
	acpiOEMID      = "KVMSCP"
	acpiOEMTableID = "KVMSCOPE"
	acpiCreatorID  = "KVMS"
	acpiHeaderLen  = 36

	fadtLen      = 276 // revision 6
	fadtRevision = 6
	// FADT flags: no fixed power or sleep button, a reset register, and
	// hardware-reduced ACPI: no PM timer, no SCI-driven fixed hardware
	// and no legacy PIC for the kernel to route through. The machine's
	// interrupts go through the IOAPIC, its timers are the local APICs'.
	fadtPwrButton = 1 << 4
	fadtSlpButton = 1 << 5
	fadtResetReg  = 1 << 10
	fadtHWReduced = 1 << 20
	// IA-PC boot architecture flags: no VGA, no MSI (there is no PCI). Bit
	// 1 (an 8042) stays clear: the i8042 here exists for its reset line,
	// not for a keyboard the kernel should probe.
	iapcNoVGA = 1 << 2
	iapcNoMSI = 1 << 3
	// The reset register: a write of 0xfe to the keyboard controller's
	// command port, which pulses the reset line that ends kvmscope's run.
	resetPort  = 0x64
	resetValue = 0xfe
	// The SCI's ISA IRQ, and its override (level, active high), as PCs
	// have it; a hardware-reduced machine raises none.
	sciIRQ = 9

	madtPCATCompat = 1 // the machine has 8259s too (KVM's irqchip has them)

	// PMTimerPort is the ACPI PM timer's port (PM_TMR_BLK), where QEMU's
	// PIIX4 and ICH9 have it: PM base 0x600, timer at offset 8. The VMM
	// puts its devices.PMTimer there. It is 24 bits wide (TMR_VAL_EXT
	// clear), as QEMU's is.
	PMTimerPort = 0x608
	pmTimerLen  = 4

	// SleepControlPort is a hardware-reduced machine's sleep control
	// register (a byte), and the status register the byte after it, where
	// PIIX4 has PM1a_CNT: Linux powers off by writing S5's type there.
	// The VMM puts its devices.SleepControl there.
	SleepControlPort = 0x604
	// SleepTypeS5 is the SLP_TYP of soft-off that \_S5 gives.
	SleepTypeS5 = 5
)

// acpiTables builds the ACPI tables for acpiAddr when the machine has
// APICs, nil otherwise: those of a hardware-reduced machine, for Linux.
func (o Options) acpiTables() ([]byte, error) { return o.acpiTablesPMTimer(false) }

// acpiTablesPMTimer is acpiTables; with pmTimer, the FADT is that of a
// machine with fixed hardware, naming the PM timer at PMTimerPort
// (kvm-unit-tests reads it from there). Linux does not get it: it would
// prefer the slow port-I/O clock source over the TSC.
func (o Options) acpiTablesPMTimer(pmTimer bool) ([]byte, error) {
	if !o.APIC {
		return nil, nil
	}
	if o.cpus() > 255 {
		return nil, fmt.Errorf("%d vCPUs: the MADT's local APIC entries name at most 255", o.cpus())
	}
	t := buildACPI(acpiAddr, o.cpus(), pmTimer)
	if len(t) > acpiMaxSize {
		return nil, fmt.Errorf("ACPI tables of %d bytes do not fit the %d bytes reserved for them", len(t), acpiMaxSize)
	}
	return t, nil
}

// writeACPI copies the tables to acpiAddr and returns the RSDP's address,
// or 0 when there are none.
func writeACPI(ram []byte, tables []byte) uint64 {
	if len(tables) == 0 {
		return 0
	}
	copy(ram[acpiAddr:], tables)
	return acpiAddr
}

// buildACPI lays out the RSDP, RSDT, XSDT, FADT, DSDT and MADT from base,
// each 16-byte aligned, the RSDP first (a kernel that scans the BIOS area
// for it finds it on the 16-byte boundary it looks at).
func buildACPI(base uint64, cpus int, pmTimer bool) []byte {
	dsdt := sdt("DSDT", 2, dsdtBody())
	madt := buildMADT(cpus)
	const rsdpLen = 36
	off := uint64(alignUp(rsdpLen, 16))
	place := func(n int) uint64 {
		at := off
		off = alignUp(off+uint64(n), 16)
		return base + at
	}
	dsdtAt := place(len(dsdt))
	fadt := buildFADT(dsdtAt, pmTimer)
	fadtAt := place(len(fadt))
	madtAt := place(len(madt))
	rsdt := make([]byte, 8)
	binary.LittleEndian.PutUint32(rsdt, uint32(fadtAt))
	binary.LittleEndian.PutUint32(rsdt[4:], uint32(madtAt))
	rsdt = sdt("RSDT", 1, rsdt)
	rsdtAt := place(len(rsdt))
	xsdt := make([]byte, 16)
	binary.LittleEndian.PutUint64(xsdt, fadtAt)
	binary.LittleEndian.PutUint64(xsdt[8:], madtAt)
	xsdt = sdt("XSDT", 1, xsdt)
	xsdtAt := place(len(xsdt))

	out := make([]byte, off)
	copy(out, rsdp(uint32(rsdtAt), xsdtAt))
	for _, t := range []struct {
		at   uint64
		data []byte
	}{{dsdtAt, dsdt}, {fadtAt, fadt}, {madtAt, madt}, {rsdtAt, rsdt}, {xsdtAt, xsdt}} {
		copy(out[t.at-base:], t.data)
	}
	return out
}

// rsdp is the ACPI 2.0 root pointer: the 20-byte ACPI 1.0 part with its
// checksum, then the length, the XSDT's address and the extended checksum.
func rsdp(rsdtAt uint32, xsdtAt uint64) []byte {
	b := make([]byte, 36)
	copy(b, "RSD PTR ")
	copy(b[9:], acpiOEMID)
	b[15] = 2 // revision: ACPI 2.0 and later
	binary.LittleEndian.PutUint32(b[16:], rsdtAt)
	binary.LittleEndian.PutUint32(b[20:], uint32(len(b)))
	binary.LittleEndian.PutUint64(b[24:], xsdtAt)
	b[8] = checksum(b[:20])
	b[32] = checksum(b)
	return b
}

// sdt prefixes body with a system description table header and sets the
// checksum so that the table's bytes sum to zero.
func sdt(sig string, revision byte, body []byte) []byte {
	b := make([]byte, acpiHeaderLen+len(body))
	copy(b, sig)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)))
	b[8] = revision
	copy(b[10:], acpiOEMID)
	copy(b[16:], acpiOEMTableID)
	binary.LittleEndian.PutUint32(b[24:], 1) // OEM revision
	copy(b[28:], acpiCreatorID)
	binary.LittleEndian.PutUint32(b[32:], 1) // creator revision
	copy(b[acpiHeaderLen:], body)
	b[9] = checksum(b)
	return b
}

// checksum returns the byte that makes b sum to zero, counting the
// checksum byte itself as zero (it is, when this is called).
func checksum(b []byte) byte {
	var s byte
	for _, x := range b {
		s += x
	}
	return -s
}

// buildFADT is the Fixed ACPI Description Table, revision 6, of a
// hardware-reduced machine, or, with pmTimer, of one whose only fixed
// hardware is the PM timer.
func buildFADT(dsdtAt uint64, pmTimer bool) []byte {
	le := binary.LittleEndian
	body := make([]byte, fadtLen-acpiHeaderLen)
	f := func(off int) []byte { return body[off-acpiHeaderLen:] }
	le.PutUint32(f(40), uint32(dsdtAt)) // DSDT
	le.PutUint16(f(46), sciIRQ)         // SCI_INT
	le.PutUint16(f(109), iapcNoVGA|iapcNoMSI)
	flags := uint32(fadtPwrButton | fadtSlpButton | fadtResetReg | fadtHWReduced)
	if pmTimer {
		flags &^= fadtHWReduced
		le.PutUint32(f(76), PMTimerPort) // PM_TMR_BLK
		f(91)[0] = pmTimerLen            // PM_TMR_LEN
		// X_PM_TMR_BLK: system I/O, 32 bits, dword access.
		x := f(208)
		x[0], x[1], x[2], x[3] = 1, 32, 0, 3
		le.PutUint64(x[4:], PMTimerPort)
	}
	le.PutUint32(f(112), flags)
	if !pmTimer {
		// SLEEP_CONTROL_REG and SLEEP_STATUS_REG: system I/O, 8 bits,
		// byte access.
		for i, port := range []uint64{SleepControlPort, SleepControlPort + 1} {
			g := f(244 + 12*i)
			g[0], g[1], g[2], g[3] = 1, 8, 0, 1
			le.PutUint64(g[4:], port)
		}
	}
	// RESET_REG, a Generic Address Structure: system I/O space, 8 bits
	// wide, byte access, at the port.
	reset := f(116)
	reset[0], reset[1], reset[2], reset[3] = 1, 8, 0, 1
	le.PutUint64(reset[4:], resetPort)
	f(128)[0] = resetValue
	le.PutUint64(f(140), dsdtAt) // X_DSDT
	return sdt("FACP", fadtRevision, body)
}

// buildMADT is the Multiple APIC Description Table: a local APIC per vCPU
// (APIC ID = processor UID = vCPU index, as vmm's CPUID says), the IOAPIC
// with GSIs from 0 (KVM routes ISA IRQ n to its pin n), the SCI's override, and LINT1 of every local APIC
// wired to NMI.
func buildMADT(cpus int) []byte {
	le := binary.LittleEndian
	body := make([]byte, 8, 8+cpus*8+12+10+6)
	le.PutUint32(body, lapicAddr)
	le.PutUint32(body[4:], madtPCATCompat)
	for i := range cpus {
		body = append(body, 0, 8, byte(i), byte(i), 1, 0, 0, 0) // enabled
	}
	// IOAPIC ID 0: what KVM's IOAPIC holds in its ID register (IOAPIC and
	// local APIC IDs are separate namespaces; QEMU does the same).
	ioapic := []byte{1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	le.PutUint32(ioapic[4:], ioapicAddr)
	body = append(body, ioapic...)
	// Interrupt source override: ISA bus, IRQ 9 -> GSI 9, active high (01),
	// level-triggered (11 << 2).
	iso := []byte{2, 10, 0, sciIRQ, sciIRQ, 0, 0, 0, 0x0d, 0}
	body = append(body, iso...)
	// Local APIC NMI: all processors (0xff), flags conforming, LINT1.
	body = append(body, 4, 6, 0xff, 0, 0, 1)
	return sdt("APIC", 4, body)
}
