package boot

import "encoding/binary"

// A multiboot kernel under QEMU starts after SeaBIOS has run, and some
// kernels rely on what the firmware leaves behind: kvm-unit-tests'
// realmode test halts with interrupts on and counts on the BIOS's 18.2 Hz
// PIT tick, through the 8259s programmed to vectors 0x08 and 0x70, to
// wake it. kvmscope has no BIOS, so the multiboot loader leaves that
// state itself:
//
//   - a real-mode interrupt vector table whose every entry points into a
//     page of handlers at 0xff000: those of the hardware interrupts
//     acknowledge the PIC(s) and return, the others only return;
//   - a 32-bit entry stub, run before the kernel's entry, that initialises
//     both 8259s as a BIOS does (master at vector 0x08, slave at 0x70,
//     everything masked but IRQ 0 and the cascade), starts PIT channel 0
//     in mode 3 with the count 65536 (18.2 Hz), loads EAX and EBX and
//     jumps to the kernel.
const (
	ivtAddr      = 0x0000
	ivtEnd       = 0x0400
	biosStubAddr = 0xff000 // F000:F000
	biosStubSeg  = 0xf000
	biosStubEnd  = biosStubAddr + 0x100

	picMasterMask = 0xfa // IRQ 0 (PIT) and 2 (the cascade) unmasked
	picSlaveMask  = 0xff
)

// Real-mode handlers, at biosStubAddr: a bare iret, one that acknowledges
// the master PIC, one that acknowledges both.
var (
	rmIret      = []byte{0xcf}
	rmEOIMaster = []byte{0x50, 0xb0, 0x20, 0xe6, 0x20, 0x58, 0xcf}             // push ax; mov al,0x20; out 0x20,al; pop ax; iret
	rmEOIBoth   = []byte{0x50, 0xb0, 0x20, 0xe6, 0xa0, 0xe6, 0x20, 0x58, 0xcf} // ... out 0xa0,al; out 0x20,al ...
)

const (
	rmIretOff      = 0x00
	rmEOIMasterOff = 0x10
	rmEOIBothOff   = 0x20
)

// writeBIOSState writes the vector table and its handlers.
func writeBIOSState(ram []byte) {
	stub := ram[biosStubAddr:biosStubEnd]
	clear(stub)
	copy(stub[rmIretOff:], rmIret)
	copy(stub[rmEOIMasterOff:], rmEOIMaster)
	copy(stub[rmEOIBothOff:], rmEOIBoth)
	for v := 0; v < 256; v++ {
		off := uint16(biosStubAddr - biosStubSeg<<4 + rmIretOff)
		switch {
		case v >= 0x08 && v < 0x10:
			off += rmEOIMasterOff
		case v >= 0x70 && v < 0x78:
			off += rmEOIBothOff
		}
		binary.LittleEndian.PutUint16(ram[ivtAddr+4*v:], off)
		binary.LittleEndian.PutUint16(ram[ivtAddr+4*v+2:], biosStubSeg)
	}
}

// multibootStub is the 32-bit code that programs the PICs and the PIT,
// then enters the kernel at entry with EAX = the multiboot magic and EBX
// = info (ECX is clobbered; the multiboot state leaves it undefined).
func multibootStub(entry, info uint32) []byte {
	out := func(port, val byte) []byte { return []byte{0xb0, val, 0xe6, port} } // mov al,val; out port,al
	var b []byte
	for _, s := range [][]byte{
		out(0x20, 0x11), out(0xa0, 0x11), // ICW1: edge, cascade, ICW4 follows
		out(0x21, 0x08), out(0xa1, 0x70), // ICW2: vector bases
		out(0x21, 0x04), out(0xa1, 0x02), // ICW3: slave on IRQ 2
		out(0x21, 0x01), out(0xa1, 0x01), // ICW4: 8086 mode
		out(0x21, picMasterMask), out(0xa1, picSlaveMask),
		out(0x43, 0x36),                  // PIT channel 0: lobyte/hibyte, mode 3, binary
		out(0x40, 0x00), out(0x40, 0x00), // count 0: 65536, 18.2 Hz
	} {
		b = append(b, s...)
	}
	b = append(b, 0xb8) // mov eax, magic
	b = binary.LittleEndian.AppendUint32(b, multibootBootMagic)
	b = append(b, 0xbb) // mov ebx, info
	b = binary.LittleEndian.AppendUint32(b, info)
	b = append(b, 0xb9) // mov ecx, entry
	b = binary.LittleEndian.AppendUint32(b, entry)
	return append(b, 0xff, 0xe1) // jmp ecx
}
