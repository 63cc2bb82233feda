package kimage

// bcjX86 undoes the x86 BCJ filter on buf, the whole output of one xz
// block: the encoder turned the relative targets of CALL (E8) and JMP (E9)
// into absolute ones so that LZMA finds more repeats; this turns them
// back. start is the filter's start offset (0 unless its properties say).
// It follows the reference decoder (xz-embedded's bcj_x86), applied once
// to the complete buffer, which leaves the last four bytes as they are,
// as the streaming decoder does at the end of its input.
func bcjX86(buf []byte, start uint32) {
	if len(buf) <= 4 {
		return
	}
	allowed := [8]bool{true, true, true, false, true, false, false, false}
	bitNum := [8]uint32{0, 1, 2, 2, 3, 3, 3, 3}
	msbyte := func(b byte) bool { return b == 0x00 || b == 0xff }

	size := len(buf) - 4
	prevPos := -1
	var prevMask uint32
	for i := 0; i < size; i++ {
		if buf[i]&0xfe != 0xe8 {
			continue
		}
		d := i - prevPos
		if d > 3 {
			prevMask = 0
		} else {
			prevMask = (prevMask << (d - 1)) & 7
			if prevMask != 0 {
				b := buf[i+4-int(bitNum[prevMask])]
				if !allowed[prevMask] || msbyte(b) {
					prevPos = i
					prevMask = prevMask<<1 | 1
					continue
				}
			}
		}
		prevPos = i
		if !msbyte(buf[i+4]) {
			prevMask = prevMask<<1 | 1
			continue
		}
		src := uint32(buf[i+1]) | uint32(buf[i+2])<<8 | uint32(buf[i+3])<<16 | uint32(buf[i+4])<<24
		var dest uint32
		for {
			dest = src - (start + uint32(i) + 5)
			if prevMask == 0 {
				break
			}
			j := bitNum[prevMask] * 8
			if !msbyte(byte(dest >> (24 - j))) {
				break
			}
			src = dest ^ (1<<(32-j) - 1)
		}
		dest &= 0x01ffffff
		dest |= 0 - (dest & 0x01000000)
		buf[i+1], buf[i+2], buf[i+3], buf[i+4] = byte(dest), byte(dest>>8), byte(dest>>16), byte(dest>>24)
		i += 4
	}
}
