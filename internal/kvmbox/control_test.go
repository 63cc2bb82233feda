package kvmbox

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// qemuExit returns the ProcessState and Wait error of a process that
// exited with code (or was killed, for -1).
func qemuExit(t *testing.T, code int) (*os.ProcessState, error) {
	t.Helper()
	script := "exit " + strconv.Itoa(code)
	if code < 0 {
		script = "kill -9 $$"
	}
	cmd := exec.Command("/bin/sh", "-c", script)
	err := cmd.Run()
	return cmd.ProcessState, err
}

func TestOutcome(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   map[string]string
		qemu    int
		want    int
		wantErr string
	}{
		{"status file", map[string]string{"status": "0\n"}, 1, 0, ""},
		{"status 255", map[string]string{"status": "255"}, 255, 255, ""},
		{"status wins over debug exit", map[string]string{"status": "200"}, 200&127<<1 | 1, 200, ""},
		{"sandbox error", map[string]string{"status": "125", "error": "mounting /x failed"}, 251, 0, "mounting /x failed"},
		{"bad status", map[string]string{"status": "x"}, 1, 0, "bad status"},
		{"debug exit only", nil, 7<<1 | 1, 7, ""},
		{"init failed early", nil, 251, 0, "before the control share"},
		{"qemu quit", nil, 0, 0, "before the command reported a status"},
		{"qemu failed to start", nil, 1, 0, "qemu exited with status 1"},
		{"qemu killed", nil, -1, 0, "killed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := controlDir{filepath.Join(t.TempDir(), "ctl")}
			if err := c.create("true\n", nil); err != nil {
				t.Fatal(err)
			}
			for n, d := range tc.files {
				os.WriteFile(c.path(n), []byte(d), 0o600)
			}
			ps, werr := qemuExit(t, tc.qemu)
			got, err := c.outcome(ps, werr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, errSandbox) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}
