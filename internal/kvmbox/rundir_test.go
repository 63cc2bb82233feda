package kvmbox

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRunDirSweep(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	live, err := newRunDir()
	if err != nil {
		t.Fatal(err)
	}
	defer live.remove()
	stale := filepath.Join(os.TempDir(), "kvmbox-stale")
	fresh := filepath.Join(os.TempDir(), "kvmbox-fresh")
	unlockable := filepath.Join(os.TempDir(), "kvmbox-old-version")
	for _, d := range []string{stale, fresh, unlockable} {
		if err := os.MkdirAll(filepath.Join(d, "ctl"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{stale, fresh} {
		os.WriteFile(filepath.Join(d, runLockName), nil, 0o600)
	}
	old := time.Now().Add(-2 * staleAfter)
	for _, d := range []string{stale, live.path, unlockable} {
		os.Chtimes(d, old, old)
	}
	next, err := newRunDir()
	if err != nil {
		t.Fatal(err)
	}
	defer next.remove()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale unlocked run folder not removed")
	}
	if _, err := os.Stat(live.path); err != nil {
		t.Error("locked run folder removed")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("recent run folder removed")
	}
	if _, err := os.Stat(unlockable); err != nil {
		t.Error("run folder without lock file removed")
	}
}
