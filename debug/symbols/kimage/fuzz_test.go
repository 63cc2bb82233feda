package kimage

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzKernelImage: any input gives an image or an error, never a panic,
// and never more than the limit. Seeds: each fixture alone and inside a
// bzImage (testdata/fuzz/FuzzKernelImage holds more).
func FuzzKernelImage(f *testing.F) {
	files, _ := filepath.Glob("testdata/plain.bin.*")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(makeBzImage(data, 24000, filepath.Ext(file) == ".gz"))
	}
	const limit = 4 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		im, err := open(data, limit)
		if err != nil {
			return
		}
		if im.Compression != "" && len(im.Data) > limit {
			t.Fatalf("%v: %d bytes, over the %d-byte limit", im, len(im.Data), limit)
		}
	})
}
