package kvmbox

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// boot is one prepared start of the sandbox: the QEMU command and what
// must be cleaned up after it.
type boot struct {
	cmd    *exec.Cmd
	ctl    controlDir
	stderr *stderrFilter
	term   *savedTerminal // the user's terminal, when it is the console
	kver   string
	dir    string // working directory inside
	undo   []func()
}

// close releases what prepareBoot set up, the run folder last.
func (b *boot) close() {
	for i := len(b.undo) - 1; i >= 0; i-- {
		b.undo[i]()
	}
}

// prepareBoot writes the run folder (initramfs, control share) and builds
// the QEMU command for o, which must have its defaults filled in.
func prepareBoot(o Options) (b *boot, err error) {
	cache := Cache{Dir: Dir()}
	kver, err := cache.Ready()
	if err != nil {
		return nil, err
	}
	qemu, err := findQEMU()
	if err != nil {
		return nil, err
	}
	shares, err := resolveShares(o.Writable)
	if err != nil {
		return nil, err
	}
	dir := o.Dir
	if dir == "" {
		pwd, _ := os.Getwd()
		dir = defaultDir(pwd, shares)
	} else if dir, err = filepath.Abs(dir); err != nil {
		return nil, fmt.Errorf("working directory: %w", err)
	}

	rd, err := newRunDir()
	if err != nil {
		return nil, err
	}
	b = &boot{kver: kver, dir: dir, undo: []func(){rd.remove}}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	initrd := filepath.Join(rd.path, "initrd")
	if err := composeInitrd(cache.Initrd(kver), initrd); err != nil {
		return nil, err
	}

	// The console is the user's terminal only when both ends are one;
	// otherwise output must come out as plain bytes.
	stdoutFile, _ := o.Stdout.(*os.File)
	tty := isTerminal(o.Stdin) && isTerminal(stdoutFile)
	sc := scriptConfig{Dir: dir, Term: os.Getenv("TERM"), Env: o.Env, Shell: o.Shell, Command: o.Command}
	if tty {
		sc.Rows, sc.Cols = terminalSize(stdoutFile)
	}
	b.ctl = controlDir{filepath.Join(rd.path, "ctl")}
	if err := b.ctl.create(commandScript(sc), shares); err != nil {
		return nil, err
	}

	cfg := qemuConfig{
		Kernel: cache.Vmlinux(kver),
		Initrd: initrd,
		Append: os.Getenv(AppendEnv),
		Memory: o.Memory,
		CPUs:   o.CPUs,
		CtlDir: b.ctl.dir,
		Shares: shares,
		TTY:    tty,
	}
	b.cmd = exec.Command(qemu)
	b.cmd.Stdout = o.Stdout
	b.stderr = &stderrFilter{w: o.Stderr}
	b.cmd.Stderr = b.stderr
	// QEMU must die with us, whatever kills us.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if tty {
		// QEMU stays in our (the terminal's foreground) process group:
		// elsewhere SIGTTOU would stop it as it sets the terminal up.
		b.cmd.Stdin = o.Stdin
		b.term = saveTerminal(o.Stdin)
		b.undo = append(b.undo, b.term.restore)
	} else {
		// The console never reads standard input (a closed one would
		// even make -serial stdio fail); input goes through the port.
		in, closeIn, err := portInput(o.Stdin)
		if err != nil {
			return nil, err
		}
		b.undo = append(b.undo, closeIn)
		if in != nil {
			cfg.StdinPort = true
			b.cmd.ExtraFiles = []*os.File{in}
		}
	}
	b.cmd.Args = append(b.cmd.Args, qemuArgs(cfg)...)
	return b, nil
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
