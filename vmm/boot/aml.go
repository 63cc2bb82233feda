package boot

import "encoding/binary"

// A few ACPI Machine Language encodings (ACPI 6.x, chapter 20), enough for
// the DSDT to name the legacy devices with their ports and IRQs. On a
// hardware-reduced machine Linux sets up no ISA interrupts by itself (it
// has no legacy PIC to set them up for); a device only gets its IRQ
// mapped through the IOAPIC when ACPI describes it, as 8250_pnp and
// rtc_cmos find it here.

// dsdtBody is the AML of the DSDT: in \_SB, COM1 (ports 0x3f8-0x3ff,
// IRQ 4) and the CMOS RTC (ports 0x70-0x71, IRQ 8); and \_S5, the sleep
// type of soft-off, without which Linux does not power off through ACPI.
func dsdtBody() []byte {
	com1 := amlDevice("COM1",
		amlName("_HID", amlDWord(eisaID("PNP", 0x0501))),
		amlName("_UID", []byte{0x01}), // OneOp
		amlName("_CRS", amlBuffer(resources(ioPorts(0x3f8, 8), irqMask(4)))),
	)
	rtc := amlDevice("RTC_",
		amlName("_HID", amlDWord(eisaID("PNP", 0x0b00))),
		amlName("_CRS", amlBuffer(resources(ioPorts(0x70, 2), irqMask(8)))),
	)
	s5 := amlName("_S5_", amlPackage(amlByte(SleepTypeS5), amlByte(SleepTypeS5), amlByte(0), amlByte(0)))
	return append(amlScope(`\_SB_`, com1, rtc), s5...)
}

// amlPackage is Package() { elements }.
func amlPackage(elements ...[]byte) []byte {
	return amlPkg([]byte{0x12}, append([][]byte{{byte(len(elements))}}, elements...)...)
}

// amlByte is a ByteConst.
func amlByte(v byte) []byte { return []byte{0x0a, v} }

// eisaID compresses a PNP ID ("PNP0501") as the EisaId() macro does: three
// letters of five bits each, then four hex digits, stored big-endian.
func eisaID(vendor string, product uint16) uint32 {
	v := uint32(vendor[0]-'@')<<10 | uint32(vendor[1]-'@')<<5 | uint32(vendor[2]-'@')
	b := []byte{byte(v >> 8), byte(v), byte(product >> 8), byte(product)}
	return binary.LittleEndian.Uint32(b)
}

// amlPkgLength encodes a PkgLength for a body of n bytes: the length
// counts its own bytes too, and takes one to four of them.
func amlPkgLength(n int) []byte {
	switch {
	case n+1 < 1<<6:
		return []byte{byte(n + 1)}
	case n+2 < 1<<12:
		t := n + 2
		return []byte{1<<6 | byte(t&0xf), byte(t >> 4)}
	case n+3 < 1<<20:
		t := n + 3
		return []byte{2<<6 | byte(t&0xf), byte(t >> 4), byte(t >> 12)}
	}
	t := n + 4
	return []byte{3<<6 | byte(t&0xf), byte(t >> 4), byte(t >> 12), byte(t >> 20)}
}

// amlPkg is an opcode followed by a PkgLength and the body.
func amlPkg(op []byte, parts ...[]byte) []byte {
	var body []byte
	for _, p := range parts {
		body = append(body, p...)
	}
	out := append([]byte(nil), op...)
	out = append(out, amlPkgLength(len(body))...)
	return append(out, body...)
}

// amlScope is Scope(path) { ... }; path is a rooted four-character name.
func amlScope(path string, body ...[]byte) []byte {
	return amlPkg([]byte{0x10}, append([][]byte{[]byte(path)}, body...)...)
}

// amlDevice is Device(name) { ... }.
func amlDevice(name string, body ...[]byte) []byte {
	return amlPkg([]byte{0x5b, 0x82}, append([][]byte{[]byte(name)}, body...)...)
}

// amlName is Name(name, data).
func amlName(name string, data []byte) []byte {
	return append(append([]byte{0x08}, name...), data...)
}

// amlDWord is a DWordConst.
func amlDWord(v uint32) []byte {
	return binary.LittleEndian.AppendUint32([]byte{0x0c}, v)
}

// amlBuffer is Buffer() { data }, its size a ByteConst (data < 256 bytes).
func amlBuffer(data []byte) []byte {
	return amlPkg([]byte{0x11}, []byte{0x0a, byte(len(data))}, data)
}

// resources is a ResourceTemplate: the descriptors and the end tag (with
// a zero checksum, which means "not checked").
func resources(descs ...[]byte) []byte {
	var b []byte
	for _, d := range descs {
		b = append(b, d...)
	}
	return append(b, 0x79, 0x00)
}

// ioPorts is IO(Decode16, base, base, 1, n): a fixed range of n ports.
func ioPorts(base uint16, n byte) []byte {
	return []byte{0x47, 0x01, byte(base), byte(base >> 8), byte(base), byte(base >> 8), 0x01, n}
}

// irqMask is IRQNoFlags() { irq }: an ISA interrupt, edge-triggered,
// active high.
func irqMask(irq uint) []byte {
	m := uint16(1) << irq
	return []byte{0x22, byte(m), byte(m >> 8)}
}
