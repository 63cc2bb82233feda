package kimage

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/internal/kvmbox"
)

// The fixtures in testdata are plain.bin (x86-like bytes with many
// CALL/JMP opcodes, so that the BCJ filter has work) compressed by the
// command-line tools as the kernel build runs them:
//
//	xz --check=crc32 --x86 --lzma2=dict=1MiB  (plain.bin.bcj.xz, the kernel's)
//	xz --check=crc64                         (plain.bin.xz)
//	lzma -9, lz4 -l -9, zstd -19, bzip2 -9, gzip -n -9
func TestDecompressFormats(t *testing.T) {
	plain, err := os.ReadFile("testdata/plain.bin")
	if err != nil {
		t.Fatal(err)
	}
	for file, format := range map[string]string{
		"plain.bin.bcj.xz": "xz", "plain.bin.xz": "xz", "plain.bin.lzma": "lzma", "plain.bin.lz4": "lz4",
		"plain.bin.zst": "zstd", "plain.bin.bz2": "bzip2", "plain.bin.gz": "gzip",
	} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			out, name, err := Decompress(data)
			if err != nil {
				t.Fatal(err)
			}
			if name != format || !bytes.Equal(out, plain) {
				t.Fatalf("format %s, %d bytes (equal %v); want %s, %d bytes", name, len(out), bytes.Equal(out, plain), format, len(plain))
			}
			// Inside a bzImage, with the kernel build's size trailer.
			im, err := Open(makeBzImage(data, len(plain), format == "gzip"))
			if err != nil {
				t.Fatal(err)
			}
			if im.String() != "bzImage ("+format+")" || !bytes.Equal(im.Data, plain) {
				t.Fatalf("bzImage: %v, %d bytes", im, len(im.Data))
			}
			// Truncated streams are errors, wherever they are cut.
			for _, n := range []int{1, 5, 13, len(data) / 3, len(data) / 2, len(data) - 9, len(data) - 1} {
				if out, _, err := Decompress(data[:n]); err == nil && bytes.Equal(out, plain) {
					t.Errorf("truncated to %d bytes: decoded it all", n)
				} else if err == nil {
					t.Errorf("truncated to %d bytes: no error (%d bytes out)", n, len(out))
				}
			}
		})
	}
}

// A flipped bit in the middle of a stream with a check is caught.
func TestDecompressCorrupt(t *testing.T) {
	for _, file := range []string{"plain.bin.bcj.xz", "plain.bin.xz", "plain.bin.gz", "plain.bin.bz2", "plain.bin.zst"} {
		data, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		bad := append([]byte(nil), data...)
		bad[len(bad)/2] ^= 0x10
		if _, _, err := Decompress(bad); err == nil {
			t.Errorf("%s with a flipped bit: no error", file)
		}
	}
}

// makeBzImage wraps a compressed payload in a minimal setup header as the
// kernel build lays it out: the payload in the protected-mode part,
// followed (except for gzip, whose trailer already ends so) by the
// uncompressed size.
func makeBzImage(payload []byte, size int, isGzip bool) []byte {
	const setupSects = 4
	img := make([]byte, (setupSects+1)*512)
	img[0x1f1] = setupSects
	binary.LittleEndian.PutUint16(img[0x1fe:], 0xaa55)
	copy(img[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(img[0x206:], 0x020f)
	pm := make([]byte, 0x100) // stands for the decompressor's code
	pm = append(pm, payload...)
	plen := len(payload)
	if !isGzip {
		pm = binary.LittleEndian.AppendUint32(pm, uint32(size))
		plen += 4
	}
	pm = append(pm, make([]byte, 0x40)...)
	binary.LittleEndian.PutUint32(img[0x1f4:], uint32((len(pm)+15)/16))
	binary.LittleEndian.PutUint32(img[0x248:], 0x100)
	binary.LittleEndian.PutUint32(img[0x24c:], uint32(plen))
	pm = append(pm, make([]byte, 16)...)
	return append(img, pm...)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestOpenBadInput(t *testing.T) {
	plain := []byte("not a kernel, but something to compress, something to compress")
	good := makeBzImage(gzipBytes(t, plain), len(plain), true)
	if im, err := Open(good); err != nil || !bytes.Equal(im.Data, plain) {
		t.Fatalf("good bzImage: %v", err)
	}
	if _, err := Open(nil); err == nil {
		t.Error("empty input accepted")
	}
	for _, n := range []int{0x210, 0x400, len(good)/2 + 0x100, 0xa00 + 0x100 + 20} {
		if _, err := Open(good[:n]); err == nil {
			t.Errorf("bzImage truncated to %#x: no error", n)
		}
	}
	// A payload that claims more than it has, one past the limit, one
	// with no known magic, an LZO one.
	for name, patch := range map[string]func(b []byte){
		"overrun":   func(b []byte) { binary.LittleEndian.PutUint32(b[0x24c:], 1<<30) },
		"no magic":  func(b []byte) { b[0xa00+0x100] = 0 },
		"old proto": func(b []byte) { binary.LittleEndian.PutUint16(b[0x206:], 0x0204) },
		"lzo":       func(b []byte) { copy(b[0xa00+0x100:], "\x89LZO") },
	} {
		bad := append([]byte(nil), good...)
		patch(bad)
		_, err := Open(bad)
		if err == nil {
			t.Errorf("%s: no error", name)
		}
		if name == "lzo" && !errors.Is(err, ErrNotSupported) {
			t.Errorf("lzo: %v, want ErrNotSupported", err)
		}
	}
	// A bomb: the trailer says more than the limit.
	bomb := makeBzImage(gzipBytes(t, make([]byte, 4<<20)), 4<<20, true)
	if _, err := open(bomb, 1<<20); err == nil {
		t.Error("4 MiB payload under a 1 MiB limit: no error")
	}
	if _, _, err := decompressLimit(gzipBytes(t, make([]byte, 4<<20)), 1<<20); err == nil {
		t.Error("4 MiB stream under a 1 MiB limit: no error")
	}
	// A small stream whose trailer claims 400 MiB: refused once it ends,
	// without a 400 MiB buffer first.
	xz, err := os.ReadFile("testdata/plain.bin.bcj.xz")
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := Open(makeBzImage(xz, 400<<20, false)); err == nil || !strings.Contains(err.Error(), "its trailer says 419430400") {
		t.Errorf("lying trailer: %v", err)
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("lying trailer: %d MiB allocated", grew>>20)
	}
	// An ELF and a raw file pass through.
	if im, err := Open([]byte("\x7fELF\x02\x01\x01")); err != nil || im.Container != "ELF" {
		t.Errorf("ELF: %v %v", im, err)
	}
	if im, err := Open([]byte("raw bytes")); err != nil || im.Container != "raw" {
		t.Errorf("raw: %v %v", im, err)
	}
}

func decompressLimit(data []byte, limit int64) ([]byte, string, error) {
	f := detect(data)
	out, err := decompress(f, data, -1, limit)
	return out, f.name, err
}

// The Debian kernel that `kvmbox setup` fetched: its bzImage (xz with the
// x86 BCJ filter) decompresses to exactly the vmlinux that setup
// extracted with the xz tool.
func TestDebianKernel(t *testing.T) {
	bz, vmlinux := debianKernel(t)
	start := time.Now()
	im, err := Open(bz)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d bytes in %v", im, len(im.Data), time.Since(start))
	if im.Container != "bzImage" || !bytes.Equal(im.Data, vmlinux) {
		t.Fatalf("%v: %d bytes, not the %d bytes of vmlinux", im, len(im.Data), len(vmlinux))
	}
}

func debianKernel(t testing.TB) (bz, vmlinux []byte) {
	c := kvmbox.Cache{Dir: kvmbox.Dir()}
	kver, err := c.KernelVersion()
	if err != nil {
		t.Skipf("needs the Debian kernel that `bin/kvmbox setup` fetches: %v", err)
	}
	if bz, err = os.ReadFile(c.Vmlinuz(kver)); err != nil {
		t.Skipf("needs the Debian kernel that `bin/kvmbox setup` fetches: %v", err)
	}
	if vmlinux, err = os.ReadFile(c.Vmlinux(kver)); err != nil {
		t.Skipf("needs the Debian kernel that `bin/kvmbox setup` fetches: %v", err)
	}
	return bz, vmlinux
}
