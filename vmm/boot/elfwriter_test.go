package boot

import (
	"debug/elf"
	"encoding/binary"
)

// testSeg is one program header of a test ELF file, with its file data.
type testSeg struct {
	typ   elf.ProgType // zero: PT_LOAD
	flags elf.ProgFlag // zero: PF_R|PF_X
	paddr uint64
	vaddr uint64 // zero: paddr
	data  []byte
	memsz uint64 // zero: len(data)
}

// testELF describes a small ELF file: header, program headers right after
// it, then each segment's data, 16-byte aligned. No section headers.
type testELF struct {
	class   elf.Class   // zero: ELFCLASS64
	machine elf.Machine // zero: EM_X86_64 or EM_386, after the class
	typ     elf.Type    // zero: ET_EXEC
	entry   uint64
	segs    []testSeg
}

func (e testELF) is64() bool { return e.class != elf.ELFCLASS32 }

// headerSizes returns the ELF header and program header sizes for the class.
func (e testELF) headerSizes() (ehsize, phentsize int) {
	if e.is64() {
		return 64, 56
	}
	return 52, 32
}

// bytes writes the file.
func (e testELF) bytes() []byte {
	class, machine, typ := e.class, e.machine, e.typ
	if class == 0 {
		class = elf.ELFCLASS64
	}
	if machine == 0 {
		machine = elf.EM_X86_64
		if !e.is64() {
			machine = elf.EM_386
		}
	}
	if typ == 0 {
		typ = elf.ET_EXEC
	}
	ehsize, phentsize := e.headerSizes()
	off := ehsize + phentsize*len(e.segs)
	offsets := make([]int, len(e.segs))
	for i, s := range e.segs {
		off = (off + 15) &^ 15
		offsets[i] = off
		off += len(s.data)
	}
	b := make([]byte, off)
	for i, s := range e.segs {
		copy(b[offsets[i]:], s.data)
	}

	le := binary.LittleEndian
	copy(b, "\x7fELF")
	b[elf.EI_CLASS] = byte(class)
	b[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	b[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	le.PutUint16(b[16:], uint16(typ))
	le.PutUint16(b[18:], uint16(machine))
	le.PutUint32(b[20:], uint32(elf.EV_CURRENT))
	if e.is64() {
		le.PutUint64(b[24:], e.entry)
		le.PutUint64(b[32:], uint64(ehsize)) // phoff
		le.PutUint16(b[52:], uint16(ehsize))
		le.PutUint16(b[54:], uint16(phentsize))
		le.PutUint16(b[56:], uint16(len(e.segs)))
	} else {
		le.PutUint32(b[24:], uint32(e.entry))
		le.PutUint32(b[28:], uint32(ehsize)) // phoff
		le.PutUint16(b[40:], uint16(ehsize))
		le.PutUint16(b[42:], uint16(phentsize))
		le.PutUint16(b[44:], uint16(len(e.segs)))
	}

	for i, s := range e.segs {
		typ, flags, vaddr, memsz := s.typ, s.flags, s.vaddr, s.memsz
		if typ == 0 {
			typ = elf.PT_LOAD
		}
		if flags == 0 {
			flags = elf.PF_R | elf.PF_X
		}
		if vaddr == 0 {
			vaddr = s.paddr
		}
		if memsz == 0 {
			memsz = uint64(len(s.data))
		}
		ph := b[ehsize+i*phentsize:]
		if e.is64() {
			le.PutUint32(ph[0:], uint32(typ))
			le.PutUint32(ph[4:], uint32(flags))
			le.PutUint64(ph[8:], uint64(offsets[i]))
			le.PutUint64(ph[16:], vaddr)
			le.PutUint64(ph[24:], s.paddr)
			le.PutUint64(ph[32:], uint64(len(s.data)))
			le.PutUint64(ph[40:], memsz)
			le.PutUint64(ph[48:], 16)
		} else {
			le.PutUint32(ph[0:], uint32(typ))
			le.PutUint32(ph[4:], uint32(offsets[i]))
			le.PutUint32(ph[8:], uint32(vaddr))
			le.PutUint32(ph[12:], uint32(s.paddr))
			le.PutUint32(ph[16:], uint32(len(s.data)))
			le.PutUint32(ph[20:], uint32(memsz))
			le.PutUint32(ph[24:], uint32(flags))
			le.PutUint32(ph[28:], 16)
		}
	}
	return b
}

// phdr returns program header i of a file written by testELF.bytes, for
// tests that corrupt one field.
func (e testELF) phdr(b []byte, i int) []byte {
	ehsize, phentsize := e.headerSizes()
	return b[ehsize+i*phentsize : ehsize+(i+1)*phentsize]
}

// sample64 is a small static x86-64 image: code at 1 MiB, data with a bss
// tail at 2 MiB.
func sample64() testELF {
	return testELF{
		entry: 0x100000,
		segs: []testSeg{
			{paddr: 0x100000, data: []byte{0x48, 0x31, 0xc0, 0xf4, 0xeb, 0xfd}}, // xor rax,rax; hlt; jmp
			{paddr: 0x200000, flags: elf.PF_R | elf.PF_W, data: []byte("data segment...."), memsz: 0x3000},
		},
	}
}

// sample32 is sample64's i386 twin.
func sample32() testELF {
	e := sample64()
	e.class = elf.ELFCLASS32
	e.segs[0].data = []byte{0x31, 0xc0, 0xf4, 0xeb, 0xfd} // xor eax,eax; hlt; jmp
	return e
}
