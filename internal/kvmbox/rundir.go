package kvmbox

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// runDirPattern names the per-run folders in the temporary directory.
const runDirPattern = "kvmbox-*"

// staleAfter keeps the sweep away from a folder that another run has just
// created and not yet locked.
const staleAfter = time.Minute

// runLockName is the file in a run folder that the run holds an flock on.
const runLockName = "lock"

// runDir is the per-run folder (initramfs, control share). Its lock file
// is locked with flock while the run lives, so that a later run can tell
// the folders of runs that died without cleaning up (SIGKILL) and remove
// them; each holds a 6 MiB initramfs. A folder without a lock file is
// never removed: it may belong to a kvmbox from before the lock.
type runDir struct {
	path string
	lock *os.File
}

func newRunDir() (*runDir, error) {
	sweepRunDirs()
	p, err := os.MkdirTemp("", runDirPattern)
	if err != nil {
		return nil, fmt.Errorf("create run folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(p, runLockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	}
	if err != nil {
		os.RemoveAll(p)
		return nil, fmt.Errorf("lock run folder: %w", err)
	}
	return &runDir{path: p, lock: f}, nil
}

// remove deletes the folder and drops the lock.
func (r *runDir) remove() {
	os.RemoveAll(r.path)
	if r.lock != nil {
		r.lock.Close()
	}
}

// sweepRunDirs removes run folders that are old enough and not locked.
// Errors are ignored: the sweep only saves disk space.
func sweepRunDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), runDirPattern))
	for _, d := range dirs {
		fi, err := os.Lstat(d)
		if err != nil || !fi.IsDir() || time.Since(fi.ModTime()) < staleAfter {
			continue
		}
		f, err := os.Open(filepath.Join(d, runLockName))
		if err != nil {
			continue
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			os.RemoveAll(d)
		}
		f.Close()
	}
}
