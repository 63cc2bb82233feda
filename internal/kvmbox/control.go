package kvmbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// controlDir is the per-run folder shared with the init as "kvmboxctl".
// We write cmd.sh and mounts; the init writes started, timeline, status
// and, when the sandbox itself fails, error. The status file is the
// primary channel for the exit status, exact for 0-255; QEMU's exit code
// from isa-debug-exit only carries 7 bits.
type controlDir struct {
	dir string
}

func (c controlDir) path(name string) string { return filepath.Join(c.dir, name) }

// create makes the folder with the command script and the share list.
func (c controlDir) create(script string, shares []share) error {
	if err := os.Mkdir(c.dir, 0o700); err != nil {
		return fmt.Errorf("create control folder: %w", err)
	}
	var mounts strings.Builder
	for _, s := range shares {
		fmt.Fprintf(&mounts, "%s %s\n", s.Tag, s.Path)
	}
	for name, data := range map[string]string{"cmd.sh": script, "mounts": mounts.String()} {
		if err := os.WriteFile(c.path(name), []byte(data), 0o600); err != nil {
			return fmt.Errorf("write control file: %w", err)
		}
	}
	return nil
}

// read returns a control file's trimmed contents, "" when absent.
func (c controlDir) read(name string) string {
	b, err := os.ReadFile(c.path(name))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// errSandbox marks failures of the sandbox itself (as opposed to the
// command's own status).
var errSandbox = errors.New("sandbox failed")

// outcome turns what the init left and how QEMU ended into the command's
// status or the reason there is none.
func (c controlDir) outcome(ps *os.ProcessState, waitErr error) (int, error) {
	if msg := c.read("error"); msg != "" {
		return 0, fmt.Errorf("%w: %s", errSandbox, msg)
	}
	if s := c.read("status"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 255 {
			return 0, fmt.Errorf("%w: bad status %q from the sandbox", errSandbox, s)
		}
		return n, nil
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		return 0, fmt.Errorf("%w: wait for qemu: %v", errSandbox, waitErr)
	}
	code := -1
	if ps != nil {
		code = ps.ExitCode()
	}
	switch {
	case code == 125<<1|1:
		return 0, fmt.Errorf("%w: the init failed before the control share was mounted (its message is above)", errSandbox)
	case code > 1 && code&1 == 1:
		// The init reached the end but its status file is missing: the
		// debug-exit value is all there is (7 bits). Code 1 (value 0) is
		// left out: QEMU also exits 1 when it fails to start.
		return code >> 1, nil
	case code == -1:
		return 0, fmt.Errorf("%w: qemu was killed (%v) before the command reported a status", errSandbox, ps)
	default:
		return 0, fmt.Errorf("%w: qemu exited with status %d before the command reported a status", errSandbox, code)
	}
}
