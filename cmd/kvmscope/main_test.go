package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"testing"
)

// The test binary doubles as kvmscope: with this variable set, TestMain
// runs main instead of the tests, so tests exec the real command without
// building it (and inside kvmbox, where compiling is slow).
const beKvmscope = "KVMSCOPE_TEST_BE_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(beKvmscope) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// kvmscope runs the command and returns its stdout, stderr and status.
func kvmscope(t *testing.T, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), beKvmscope+"=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		status = exit.ExitCode()
	case err != nil:
		t.Fatalf("run kvmscope %v: %v", args, err)
	}
	return out.String(), errb.String(), status
}
