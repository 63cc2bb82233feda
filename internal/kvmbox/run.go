package kvmbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"
)

// ErrTimeout is returned when the sandbox ran past Options.Timeout.
var ErrTimeout = errors.New("timed out")

// QEMUEnv names the variable that picks another QEMU binary.
const QEMUEnv = "KVMBOX_QEMU"

// AppendEnv names the variable whose words go on the kernel command line
// (for debugging the sandbox: kvmbox_rescue=1, kvmbox_overlay=0).
const AppendEnv = "KVMBOX_APPEND"

// stopGrace is how long QEMU gets to exit on SIGTERM (restoring the
// terminal) before it is killed.
const stopGrace = 3 * time.Second

// Run boots the sandbox, runs the command in it and returns the
// command's exit status (0-255). An error means the sandbox did not give
// one: ErrTimeout, the context's cause when ctx was cancelled, or a
// failure of the sandbox itself (ErrNotSetUp among them).
func Run(ctx context.Context, o Options) (int, error) {
	if err := o.Validate(); err != nil {
		return 0, err
	}
	o = o.withDefaults()
	b, err := prepareBoot(o)
	if err != nil {
		return 0, err
	}
	defer b.close()
	rep := report{verbose: o.Verbose, w: o.Stderr}
	rep.linef("kernel %s, %d CPUs, %s memory, timeout %v, working directory %s", b.kver, o.CPUs, o.Memory, o.Timeout, b.dir)
	rep.linef("%s", strings.Join(b.cmd.Args, " "))

	start := time.Now()
	if err := b.cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", b.cmd.Path, err)
	}
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	var started <-chan time.Duration
	if o.Verbose {
		quit := make(chan struct{})
		defer close(quit)
		started = watchStart(b.ctl, start, quit)
	}

	timer := time.NewTimer(o.Timeout)
	defer timer.Stop()
	var waitErr, stopErr error
	select {
	case waitErr = <-done:
	case <-timer.C:
		stopErr = fmt.Errorf("%w after %v", ErrTimeout, o.Timeout)
		waitErr = b.stop(done)
	case <-ctx.Done():
		stopErr = context.Cause(ctx)
		waitErr = b.stop(done)
	}
	b.stderr.Flush()
	b.term.restore() // before any message of ours
	if o.Verbose {
		rep.timings(b.ctl, time.Since(start), started, b.cmd.ProcessState)
	}

	if stopErr != nil && !errors.Is(stopErr, ErrTimeout) {
		return 0, stopErr
	}
	status, err := b.ctl.outcome(b.cmd.ProcessState, waitErr)
	if stopErr != nil && err != nil {
		// Timed out with no status: the command did not finish.
		return 0, stopErr
	}
	return status, err
}

// stop asks QEMU to quit (SIGTERM lets it restore the terminal) and kills
// it if it has not after stopGrace; it returns what Wait returned.
func (b *boot) stop(done <-chan error) error {
	b.stderr.stopping.Store(true)
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		return err
	case <-time.After(stopGrace):
		b.cmd.Process.Kill()
		return <-done
	}
}
