package kimage

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz/lzma"
)

// format is one compressor the kernel build may use, known by the magic
// its stream starts with (the decompressors in lib/decompress_*.c).
type format struct {
	name  string
	magic string
	// reader opens the stream, which yields at most limit bytes; nil
	// when kimage does not unpack it.
	reader func(data []byte, limit int64) (io.Reader, error)
}

var formats = []*format{
	{"gzip", "\x1f\x8b", gzipReader},
	{"xz", "\xfd7zXZ\x00", nil}, // decodeXZ: the kernel's xz uses the x86 BCJ filter
	{"zstd", "\x28\xb5\x2f\xfd", zstdReader},
	{"bzip2", "BZh", func(data []byte, _ int64) (io.Reader, error) { return bzip2.NewReader(bytes.NewReader(data)), nil }},
	{"lzma", "\x5d\x00\x00", lzmaReader},
	{"lzo", "\x89LZO", nil},
	{"lz4", "\x02\x21\x4c\x18", func(data []byte, _ int64) (io.Reader, error) { return lz4.NewReader(bytes.NewReader(data)), nil }},
}

// detect names the compressor whose magic data starts with, or nil.
func detect(data []byte) *format {
	for _, f := range formats {
		if bytes.HasPrefix(data, []byte(f.magic)) {
			return f
		}
	}
	return nil
}

// Decompress unpacks one stream of any format Open knows, bounded by
// Limit. It is Open's decompressor for callers that hold a bare stream.
func Decompress(data []byte) (out []byte, format string, err error) {
	f := detect(data)
	if f == nil {
		return nil, "", fmt.Errorf("decompress: % x: no known compressor's magic", data[:min(len(data), 6)])
	}
	out, err = decompress(f, data, -1, Limit)
	if err != nil {
		return nil, f.name, fmt.Errorf("decompress %s: %w", f.name, err)
	}
	return out, f.name, nil
}

// decompress unpacks data with f. want is the expected size, or -1 when
// unknown; either way no more than limit bytes are produced.
func decompress(f *format, data []byte, want, limit int64) (out []byte, err error) {
	if want >= 0 {
		limit = min(want, limit)
	}
	// The expected size sizes the output buffer in one allocation, but
	// only as far as a plausible ratio (kernels compress 3-8×): a tiny
	// stream claiming 500 MiB allocates nothing much before it fails.
	hint := min(want, maxRatio*int64(len(data)))
	// The decompressors are third-party code fed untrusted input: a
	// panic in one of them is reported as a corrupt stream, not a crash.
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("corrupt stream (the decoder failed: %v)", p)
		}
	}()
	if f.name == "xz" {
		return decodeXZ(data, limit, hint)
	}
	if f.reader == nil {
		return nil, fmt.Errorf("%s: %w", f.name, ErrNotSupported)
	}
	r, err := f.reader(data, limit)
	if err != nil {
		return nil, err
	}
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	return readBounded(r, limit, hint)
}

// maxRatio bounds the output buffer allocated before decoding, per byte
// of input.
const maxRatio = 32

// readBounded reads r to its end, failing once it yields more than limit
// bytes. want, when known, sizes the buffer up front.
func readBounded(r io.Reader, limit, want int64) ([]byte, error) {
	var buf bytes.Buffer
	if want > 0 {
		buf.Grow(int(want))
	}
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return nil, fmt.Errorf("truncated stream after %d bytes of output: %w", n, io.ErrUnexpectedEOF)
	case err != nil:
		return nil, err
	case n > limit:
		return nil, fmt.Errorf("the stream decompresses to more than %d bytes", limit)
	}
	return buf.Bytes(), nil
}

func gzipReader(data []byte, _ int64) (io.Reader, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	zr.Multistream(false) // what follows the first member is not gzip
	return zr, nil
}

// zstdCloser adapts the zstd decoder, whose Close returns nothing.
type zstdCloser struct{ *zstd.Decoder }

func (z zstdCloser) Close() error { z.Decoder.Close(); return nil }

func zstdReader(data []byte, limit int64) (io.Reader, error) {
	window := uint64(max(min(limit, zstd.MaxWindowSize), zstd.MinWindowSize))
	d, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxMemory(uint64(max(limit, 1))), zstd.WithDecoderMaxWindow(window))
	if err != nil {
		return nil, err
	}
	return zstdCloser{d}, nil
}

// lzmaReader opens a classic .lzma stream. Its header asks for a
// dictionary (64 MiB for the kernel's `lzma -9`) that the decoder
// allocates up front; since no match reaches back past the start of the
// output, a dictionary larger than limit is cut to limit, so that a
// mangled header cannot ask for gigabytes.
func lzmaReader(data []byte, limit int64) (io.Reader, error) {
	if len(data) >= lzma.HeaderLen {
		if dict := int64(binary.LittleEndian.Uint32(data[1:5])); dict > limit {
			hdr := append([]byte(nil), data[:lzma.HeaderLen]...)
			binary.LittleEndian.PutUint32(hdr[1:5], uint32(max(limit, lzma.MinDictCap)))
			return lzma.NewReader(io.MultiReader(bytes.NewReader(hdr), bytes.NewReader(data[lzma.HeaderLen:])))
		}
	}
	return lzma.NewReader(bytes.NewReader(data))
}
