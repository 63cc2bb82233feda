package kvmbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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
	cache := Cache{Dir: Dir()}
	kver, err := cache.Ready()
	if err != nil {
		return 0, err
	}
	qemu, err := findQEMU()
	if err != nil {
		return 0, err
	}
	shares, err := resolveShares(o.Writable)
	if err != nil {
		return 0, err
	}
	dir := o.Dir
	if dir == "" {
		pwd, _ := os.Getwd()
		dir = defaultDir(pwd, shares)
	} else if dir, err = filepath.Abs(dir); err != nil {
		return 0, fmt.Errorf("working directory: %w", err)
	}

	rd, err := newRunDir()
	if err != nil {
		return 0, err
	}
	defer rd.remove()
	work := rd.path
	initrd := filepath.Join(work, "initrd")
	if err := composeInitrd(cache.Initrd(kver), initrd); err != nil {
		return 0, err
	}
	ctl := controlDir{filepath.Join(work, "ctl")}

	stdoutFile, _ := o.Stdout.(*os.File)
	tty := isTerminal(o.Stdin) && isTerminal(stdoutFile)
	sc := scriptConfig{
		Dir:     dir,
		Term:    os.Getenv("TERM"),
		Env:     o.Env,
		Shell:   o.Shell,
		Command: o.Command,
	}
	if tty {
		sc.Rows, sc.Cols = terminalSize(stdoutFile)
	}
	if err := ctl.create(commandScript(sc), shares); err != nil {
		return 0, err
	}

	cfg := qemuConfig{
		Kernel: cache.Vmlinux(kver),
		Initrd: initrd,
		Append: os.Getenv(AppendEnv),
		Memory: o.Memory,
		CPUs:   o.CPUs,
		CtlDir: ctl.dir,
		Shares: shares,
		TTY:    tty,
	}
	cmd := exec.Command(qemu)
	cmd.Stdout = o.Stdout
	stderr := &stderrFilter{w: o.Stderr}
	cmd.Stderr = stderr
	// QEMU must die with us, whatever kills us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if tty {
		// QEMU stays in our (the terminal's foreground) process group:
		// elsewhere SIGTTOU would stop it as it sets the terminal up.
		cmd.Stdin = o.Stdin
	} else {
		// The console never reads standard input (a closed one would
		// even make -serial stdio fail); input goes through the port.
		in, closeIn, err := portInput(o.Stdin)
		if err != nil {
			return 0, err
		}
		defer closeIn()
		if in != nil {
			cfg.StdinPort = true
			cmd.ExtraFiles = []*os.File{in}
		}
	}
	cmd.Args = append(cmd.Args, qemuArgs(cfg)...)

	var term *savedTerminal
	if tty {
		term = saveTerminal(o.Stdin)
		defer term.restore()
	}
	rep := report{verbose: o.Verbose, w: o.Stderr}
	rep.linef("kernel %s, %d CPUs, %s memory, timeout %v, working directory %s", kver, o.CPUs, o.Memory, o.Timeout, dir)
	rep.linef("%s", strings.Join(cmd.Args, " "))
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", qemu, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var started <-chan time.Duration
	if o.Verbose {
		quit := make(chan struct{})
		defer close(quit)
		started = watchStart(ctl, start, quit)
	}

	timer := time.NewTimer(o.Timeout)
	defer timer.Stop()
	var waitErr, stopErr error
	select {
	case waitErr = <-done:
	case <-timer.C:
		stopErr = fmt.Errorf("%w after %v", ErrTimeout, o.Timeout)
		stderr.stopping.Store(true)
		waitErr = stop(cmd, done)
	case <-ctx.Done():
		stopErr = context.Cause(ctx)
		stderr.stopping.Store(true)
		waitErr = stop(cmd, done)
	}
	stderr.Flush()
	wall := time.Since(start)
	term.restore()

	if o.Verbose {
		rep.timings(ctl, wall, started, cmd.ProcessState)
	}
	if stopErr != nil && !errors.Is(stopErr, ErrTimeout) {
		return 0, stopErr
	}
	status, err := ctl.outcome(cmd.ProcessState, waitErr)
	if stopErr != nil && err != nil {
		// Timed out with no status: the command did not finish.
		return 0, stopErr
	}
	return status, err
}

// findQEMU returns the QEMU binary: $KVMBOX_QEMU or qemu-system-x86_64.
func findQEMU() (string, error) {
	if q := os.Getenv(QEMUEnv); q != "" {
		return q, nil
	}
	p, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return "", fmt.Errorf("%w: run `sudo kvmbox setup` (qemu-system-x86_64 not found)", ErrNotSetUp)
	}
	return p, nil
}

// composeInitrd writes the boot's initramfs: the cached base archive with
// the binary's own /init archive appended.
func composeInitrd(base, out string) error {
	in, err := os.Open(base)
	if err != nil {
		return fmt.Errorf("read initramfs: %w", err)
	}
	defer in.Close()
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("write initramfs: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(f, in); err != nil {
		return fmt.Errorf("write initramfs: %w", err)
	}
	ia, err := initArchive()
	if err != nil {
		return err
	}
	if _, err := f.Write(ia); err != nil {
		return fmt.Errorf("write initramfs: %w", err)
	}
	return f.Close()
}

// stop asks QEMU to quit (SIGTERM lets it restore the terminal) and kills
// it if it has not after stopGrace; it returns what Wait returned.
func stop(cmd *exec.Cmd, done <-chan error) error {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		return err
	case <-time.After(stopGrace):
		cmd.Process.Kill()
		return <-done
	}
}

// portInput decides what feeds the standard input port: nothing when
// standard input is closed or /dev/null (the command then reads
// /dev/null), the file itself when QEMU can reopen it through
// /proc/self/fd (pipe, file, terminal), else a pipe that a goroutine
// fills (a socket cannot be reopened).
func portInput(f *os.File) (*os.File, func(), error) {
	nop := func() {}
	if f == nil {
		return nil, nop, nil
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, nop, nil // closed
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return nil, nop, nil
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return f, nop, nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nop, fmt.Errorf("standard input pipe: %w", err)
	}
	go func() {
		io.Copy(w, f)
		w.Close()
	}()
	return r, func() { r.Close() }, nil
}
