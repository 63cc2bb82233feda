package kvmbox

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeBzImage wraps payload like a bzImage: setup sectors with a boot
// protocol 2.15 header pointing at the payload, garbage around it.
func fakeBzImage(payload []byte, withHeader bool) []byte {
	const setupSects = 3
	pm := (setupSects + 1) * 512
	img := bytes.Repeat([]byte{0x90}, pm+100)
	img = append(img, payload...)
	img = append(img, bytes.Repeat([]byte{0xcc}, 300)...)
	if withHeader {
		img[0x1f1] = setupSects
		copy(img[0x202:], "HdrS")
		binary.LittleEndian.PutUint16(img[0x206:], 0x20f)
		binary.LittleEndian.PutUint32(img[0x248:], 100)
		binary.LittleEndian.PutUint32(img[0x24c:], uint32(len(payload)))
	}
	return img
}

func TestKernelPayload(t *testing.T) {
	xzData := append(append([]byte{}, xzMagic...), "rest of stream"...)
	zstdData := append(append([]byte{}, zstdMagic...), "zstd frame"...)
	for _, tc := range []struct {
		name    string
		image   []byte
		want    []byte
		tool    string
		wantErr string
	}{
		{"header xz", fakeBzImage(xzData, true), xzData, "xz", ""},
		{"header zstd", fakeBzImage(zstdData, true), zstdData, "zstd", ""},
		{"magic scan", fakeBzImage(xzData, false), xzData, "xz", ""},
		{"nothing", fakeBzImage([]byte("plain"), false), nil, "", "no xz-compressed payload"},
		{"short", []byte("\xfd7zX"), nil, "", "no xz-compressed payload"},
		{"empty", nil, nil, "", "no xz-compressed payload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, tool, err := kernelPayload(tc.image)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tool[0] != tc.tool {
				t.Errorf("tool = %v, want %s", tool, tc.tool)
			}
			// The magic scan cannot know where the stream ends and
			// leaves that to xz --single-stream.
			if !bytes.HasPrefix(p, tc.want) {
				t.Errorf("payload = %q, want prefix %q", p, tc.want)
			}
		})
	}
}

func TestHeaderPayloadRejectsBadBounds(t *testing.T) {
	img := fakeBzImage([]byte("x"), true)
	binary.LittleEndian.PutUint32(img[0x24c:], 1<<30)
	if _, ok := headerPayload(img); ok {
		t.Fatal("payload beyond the image accepted")
	}
}

func TestHasNote(t *testing.T) {
	notes := append(elfNote("GNU", 3, []byte("build-id")), elfNote("Xen", xenElfnotePhys32Entry, []byte{1, 2, 3, 4})...)
	if !hasNote(notes, "Xen", xenElfnotePhys32Entry) {
		t.Error("Xen PVH note not found")
	}
	if hasNote(notes, "Xen", 5) || hasNote(notes, "Linux", xenElfnotePhys32Entry) {
		t.Error("found a note that is not there")
	}
	if hasNote(notes[:20], "Xen", xenElfnotePhys32Entry) || hasNote(nil, "Xen", 18) {
		t.Error("truncated notes matched")
	}
}

// TestExtractVmlinux runs the real extraction (xz) on a synthetic
// kernel: an ELF with or without the PVH note, xz-compressed inside a
// fake bzImage.
func TestExtractVmlinux(t *testing.T) {
	if _, err := exec.LookPath("xz"); err != nil {
		t.Skip("xz not installed")
	}
	for _, tc := range []struct {
		name    string
		notes   []byte
		wantErr string
	}{
		{"pvh", elfNote("Xen", xenElfnotePhys32Entry, []byte{0, 0, 0, 1}), ""},
		{"no pvh", elfNote("GNU", 3, []byte("id")), "no PVH entry note"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			kernel := elfWithNotes(tc.notes)
			cmd := exec.Command("xz", "-c", "--check=crc32")
			cmd.Stdin = bytes.NewReader(kernel)
			xzed, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			vmlinuz := filepath.Join(dir, "vmlinuz")
			if err := os.WriteFile(vmlinuz, fakeBzImage(xzed, false), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "vmlinux")
			err = extractVmlinux(context.Background(), vmlinuz, out)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if _, err := os.Stat(out); err == nil {
					t.Fatal("a kernel without PVH note was written")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(out)
			if !bytes.Equal(got, kernel) {
				t.Fatalf("extracted %d bytes, want the %d of the kernel", len(got), len(kernel))
			}
		})
	}
}
