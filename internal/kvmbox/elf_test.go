package kvmbox

import (
	"bytes"
	"encoding/binary"
)

// Tiny ELF64 builders for tests: just enough structure for debug/elf.

// elfWithSection returns an ELF64 relocatable file with one section
// (besides the null one and .shstrtab) holding data.
func elfWithSection(name string, data []byte) []byte {
	le := binary.LittleEndian
	shstr := append([]byte("\x00"+name+"\x00.shstrtab\x00"), 0)
	const ehsize, shentsize = 64, 64
	dataOff := ehsize
	strOff := dataOff + len(data)
	shOff := (strOff + len(shstr) + 7) &^ 7
	out := make([]byte, shOff+3*shentsize)
	copy(out, "\x7fELF")
	out[4], out[5], out[6] = 2, 1, 1 // 64-bit, little-endian, version 1
	le.PutUint16(out[16:], 1)        // ET_REL
	le.PutUint16(out[18:], 62)       // EM_X86_64
	le.PutUint32(out[20:], 1)
	le.PutUint64(out[40:], uint64(shOff))
	le.PutUint16(out[52:], ehsize)
	le.PutUint16(out[58:], shentsize)
	le.PutUint16(out[60:], 3) // shnum
	le.PutUint16(out[62:], 2) // shstrndx
	copy(out[dataOff:], data)
	copy(out[strOff:], shstr)
	sec := func(i int, nameOff, typ, off, size int) {
		h := out[shOff+i*shentsize:]
		le.PutUint32(h[0:], uint32(nameOff))
		le.PutUint32(h[4:], uint32(typ))
		le.PutUint64(h[24:], uint64(off))
		le.PutUint64(h[32:], uint64(size))
		le.PutUint64(h[48:], 1)
	}
	sec(1, 1, 1 /* PROGBITS */, dataOff, len(data))
	sec(2, 1+len(name)+1, 3 /* STRTAB */, strOff, len(shstr))
	return out
}

// elfNote encodes one ELF note.
func elfNote(name string, typ uint32, desc []byte) []byte {
	var b bytes.Buffer
	n := append([]byte(name), 0)
	binary.Write(&b, binary.LittleEndian, []uint32{uint32(len(n)), uint32(len(desc)), typ})
	b.Write(n)
	b.Write(make([]byte, int(align4(uint32(len(n))))-len(n)))
	b.Write(desc)
	b.Write(make([]byte, int(align4(uint32(len(desc))))-len(desc)))
	return b.Bytes()
}

// elfWithNotes returns an ELF64 executable with one PT_NOTE segment.
func elfWithNotes(notes []byte) []byte {
	le := binary.LittleEndian
	const ehsize, phentsize = 64, 56
	noteOff := ehsize + phentsize
	out := make([]byte, noteOff+len(notes))
	copy(out, "\x7fELF")
	out[4], out[5], out[6] = 2, 1, 1
	le.PutUint16(out[16:], 2) // ET_EXEC
	le.PutUint16(out[18:], 62)
	le.PutUint32(out[20:], 1)
	le.PutUint64(out[32:], ehsize) // phoff
	le.PutUint16(out[52:], ehsize)
	le.PutUint16(out[54:], phentsize)
	le.PutUint16(out[56:], 1)
	ph := out[ehsize:]
	le.PutUint32(ph[0:], 4) // PT_NOTE
	le.PutUint64(ph[8:], uint64(noteOff))
	le.PutUint64(ph[32:], uint64(len(notes)))
	le.PutUint64(ph[40:], uint64(len(notes)))
	copy(out[noteOff:], notes)
	return out
}
