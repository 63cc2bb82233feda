package linux

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckBenchScript finds the bench script in a built initramfs and
// refuses one whose script differs, as a build from before a change would.
func TestCheckBenchScript(t *testing.T) {
	for _, compress := range []bool{false, true} {
		initrd, err := Initramfs([]byte("not really busybox"), compress)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		s := Sample{Kernel: filepath.Join(dir, KernelName), Initrd: filepath.Join(dir, InitrdName)}
		if err := os.WriteFile(s.Initrd, initrd, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := s.CheckBenchScript(); err != nil {
			t.Errorf("compress %v: %v", compress, err)
		}
		if _, err := cpioLookup(initrd, "bin/nothing"); !errors.Is(err, errNoFile) {
			t.Errorf("compress %v: a missing file: %v, want errNoFile", compress, err)
		}
	}
	// An archive whose script is another one.
	saved := benchScript
	benchScript = []byte("#!/bin/sh\necho older\n")
	initrd, err := Initramfs(nil, true)
	benchScript = saved
	if err != nil {
		t.Fatal(err)
	}
	s := Sample{Initrd: filepath.Join(t.TempDir(), InitrdName)}
	if err := os.WriteFile(s.Initrd, initrd, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckBenchScript(); err == nil || !strings.Contains(err.Error(), "make linux-sample") {
		t.Errorf("a stale script: %v, want an error that says to run make linux-sample", err)
	}
	// Garbage and truncation are errors, not panics.
	for _, bad := range [][]byte{nil, []byte("070701"), initrd[:20], []byte(strings.Repeat("0", 200))} {
		if _, err := cpioLookup(bad, "init"); err == nil {
			t.Errorf("cpioLookup(%q...) found a file", bad[:min(len(bad), 12)])
		}
	}
}
