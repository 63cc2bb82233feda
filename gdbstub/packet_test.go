package gdbstub

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// frames decodes a whole stream, collecting frames and errors.
func frames(t *testing.T, stream string, max int) ([]Frame, []error) {
	t.Helper()
	d := NewDecoder(strings.NewReader(stream), max)
	var fs []Frame
	var errs []error
	for range 1000 {
		f, err := d.Next()
		if err != nil {
			if !isProtocolError(err) {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("fatal error %v", err)
				}
				return fs, errs
			}
			errs = append(errs, err)
			continue
		}
		fs = append(fs, f)
	}
	t.Fatal("decoder does not end")
	return nil, nil
}

func TestDecodeFrames(t *testing.T) {
	stream := "+" + string(frameRaw("qSupported:swbreak+")) + "-\x03$g#67"
	fs, errs := frames(t, stream, 0)
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	want := []Frame{
		{Kind: FrameAck},
		{Kind: FramePacket, Data: []byte("qSupported:swbreak+")},
		{Kind: FrameNak},
		{Kind: FrameInterrupt},
		{Kind: FramePacket, Data: []byte("g")},
	}
	if len(fs) != len(want) {
		t.Fatalf("got %d frames %v, want %d", len(fs), fs, len(want))
	}
	for i := range want {
		if fs[i].Kind != want[i].Kind || !bytes.Equal(fs[i].Data, want[i].Data) {
			t.Errorf("frame %d = %v %q, want %v %q", i, fs[i].Kind, fs[i].Data, want[i].Kind, want[i].Data)
		}
	}
}

func TestChecksum(t *testing.T) {
	// "g" is 0x67.
	if c := checksum([]byte("g")); c != 0x67 {
		t.Fatalf("checksum(g) = %02x", c)
	}
	for _, tc := range []struct{ stream, sent string }{
		{"$g#68", "68"},
		{"$g#zz", "zz"},
		{"$g#6G", "6G"},
	} {
		_, errs := frames(t, tc.stream, 0)
		var ce *ChecksumError
		if len(errs) != 1 || !errors.As(errs[0], &ce) {
			t.Fatalf("%q: errors %v, want one checksum error", tc.stream, errs)
		}
		if ce.Sent != tc.sent || ce.Computed != 0x67 {
			t.Errorf("%q: %+v", tc.stream, ce)
		}
		if !strings.Contains(ce.Error(), tc.sent) || !strings.Contains(ce.Error(), "67") {
			t.Errorf("message %q lacks both values", ce.Error())
		}
	}
	// Upper-case checksum digits are fine.
	fs, errs := frames(t, "$m#6D", 0)
	if len(errs) != 0 || len(fs) != 1 {
		t.Fatalf("upper-case checksum: %v %v", fs, errs)
	}
}

func TestRunLength(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"0* ", "0000"},        // ' ' is 32: 3 more
		{"ab*\"c", "abbbbbbc"}, // '"' is 34: 5 more
		{"}]*!", "}]}]}]}]}]"}, // a run of an escaped byte repeats the pair
		{"x*~", strings.Repeat("x", 98)},
	} {
		got, err := expandRunLength(nil, []byte(tc.raw), 1000)
		if err != nil || string(got) != tc.want {
			t.Errorf("expand(%q) = %q, %v; want %q", tc.raw, got, err, tc.want)
		}
	}
	for _, raw := range []string{"*a", "a*", "a*\x01", "}"} {
		_, err := expandRunLength(nil, []byte(raw), 1000)
		var me *MalformedError
		if !errors.As(err, &me) {
			t.Errorf("expand(%q): %v, want MalformedError", raw, err)
		}
	}
	// Through the decoder, with a good checksum.
	fs, errs := frames(t, string(frameRaw("m0,8*!")), 0)
	if len(errs) != 0 || len(fs) != 1 || string(fs[0].Data) != "m0,88888" {
		t.Fatalf("decoded %v %v", fs, errs)
	}
}

// frameRaw frames raw bytes without escaping (to send RLE and escapes).
func frameRaw(raw string) []byte {
	b := []byte("$" + raw + "#")
	return appendHex(b, []byte{checksum([]byte(raw))})
}

func TestEscaping(t *testing.T) {
	data := []byte("a$b#c}d*e\x03")
	pkt := AppendPacket(nil, data)
	if bytes.ContainsAny(pkt[1:len(pkt)-3], "$#*") {
		t.Fatalf("unescaped special byte in %q", pkt)
	}
	fs, errs := frames(t, string(pkt), 0)
	if len(errs) != 0 || len(fs) != 1 {
		t.Fatalf("%v %v", fs, errs)
	}
	got, err := Unescape(nil, fs[0].Data)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("round trip: %q %v", got, err)
	}
	if _, err := Unescape(nil, []byte("ab}")); err == nil {
		t.Fatal("dangling escape accepted")
	}
}

func TestTooLong(t *testing.T) {
	long := strings.Repeat("a", minPacketSize+1)
	stream := string(AppendPacket(nil, []byte(long))) + "$g#67"
	fs, errs := frames(t, stream, minPacketSize)
	var tl *TooLongError
	if len(errs) != 1 || !errors.As(errs[0], &tl) || tl.Max != minPacketSize {
		t.Fatalf("errors %v, want one TooLongError", errs)
	}
	if len(fs) != 1 || string(fs[0].Data) != "g" {
		t.Fatalf("the next packet was lost: %v", fs)
	}
	// A run that expands beyond the limit is too long as well.
	_, errs = frames(t, string(frameRaw("a*~a*~")), 100)
	if len(errs) != 1 || !errors.As(errs[0], &tl) {
		t.Fatalf("run-length overflow: %v", errs)
	}
}

func TestGarbage(t *testing.T) {
	fs, errs := frames(t, "hello$g#67$m0,1$g#67", 0)
	var ge *GarbageError
	if len(errs) != 2 || !errors.As(errs[0], &ge) || ge.Len != 5 || string(ge.Bytes) != "hello" {
		t.Fatalf("errors %v", errs)
	}
	// "$m0,1" was cut short by a new '$'.
	if !errors.As(errs[1], &ge) || !strings.HasPrefix(string(ge.Bytes), "$m0,1") {
		t.Fatalf("restart error %v", errs[1])
	}
	if len(fs) != 2 || string(fs[0].Data) != "g" || string(fs[1].Data) != "g" {
		t.Fatalf("frames %v", fs)
	}
}

func TestTruncated(t *testing.T) {
	for _, s := range []string{"$g", "$g#", "$g#6"} {
		d := NewDecoder(strings.NewReader(s), 0)
		if _, err := d.Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%q: %v, want unexpected EOF", s, err)
		}
	}
}

func TestHexHelpers(t *testing.T) {
	if v, ok := parseHexUint([]byte("ffffffffffffffff")); !ok || v != ^uint64(0) {
		t.Fatal("max uint64")
	}
	for _, bad := range []string{"", "12345678901234567", "x", "-1"} {
		if _, ok := parseHexUint([]byte(bad)); ok {
			t.Errorf("parseHexUint(%q) accepted", bad)
		}
	}
	if b, ok := decodeHex([]byte("00fF")); !ok || !bytes.Equal(b, []byte{0, 0xff}) {
		t.Fatal("decodeHex")
	}
	if _, ok := decodeHex([]byte("0")); ok {
		t.Fatal("odd hex accepted")
	}
}

// FuzzDecodePacket feeds arbitrary streams to the decoder: it never
// panics, always ends, and every packet it returns re-encodes to itself.
func FuzzDecodePacket(f *testing.F) {
	for _, s := range []string{
		"$g#67", "+$qSupported:multiprocess+;swbreak+#00", "\x03", "-+",
		string(frameRaw("0* ")), string(frameRaw("}]*!")), "$X1000,4:}]}\x03}}}*#00",
		"garbage$g", "$$$###", string(AppendPacket(nil, []byte("X0,3:$#*"))),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		const max = 256
		d := NewDecoder(bytes.NewReader(stream), max)
		for i := 0; ; i++ {
			if i > len(stream)+1 {
				t.Fatalf("decoder made no progress on %q", stream)
			}
			fr, err := d.Next()
			if err != nil {
				if isProtocolError(err) {
					continue
				}
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if fr.Kind != FramePacket {
				continue
			}
			if len(fr.Data) > max {
				t.Fatalf("packet of %d bytes passed the limit %d", len(fr.Data), max)
			}
			// Binary data round-trips through the encoder.
			if raw, err := Unescape(nil, fr.Data); err == nil {
				again := NewDecoder(bytes.NewReader(AppendPacket(nil, raw)), 4*max)
				f2, err := again.Next()
				if err != nil || f2.Kind != FramePacket {
					t.Fatalf("re-encoded %q does not decode: %v", raw, err)
				}
				back, err := Unescape(nil, f2.Data)
				if err != nil || !bytes.Equal(back, raw) {
					t.Fatalf("round trip %q -> %q (%v)", raw, back, err)
				}
			}
		}
	})
}
