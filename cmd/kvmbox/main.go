// Command kvmbox runs a command inside the nested-KVM sandbox, a QEMU
// virtual machine on the software CPU emulator whose kernel has a working
// /dev/kvm, for machines (development, CI) without hardware
// virtualization. `kvmbox setup` prepares the host once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kvmscope/kvmscope/internal/kvmbox"
)

// Exit codes besides the command's own status, as timeout(1) uses them.
const (
	exitSetupFailed = 1
	exitTimeout     = 124
	exitSandbox     = 125
)

const usage = `usage:
  kvmbox setup
        install QEMU >= 10 and tools (apt), build the sandbox's kernel and
        initramfs into $KVMBOX_DIR (default /var/cache/kvmscope/kvmbox);
        needs root; does only what is not done yet
  kvmbox [options] -- CMD [ARGS...]
        run CMD as root in the sandbox, with a working /dev/kvm; exit
        with its status (124: timeout, 125: the sandbox failed)
  kvmbox [options] -s
        an interactive shell in the sandbox

The host's root is visible read-only, under a throw-away writable
overlay; /tmp, /run and /var/tmp are empty; only loopback networking.
CMD gets PATH with /usr/local/go/bin, HOME=/root, the host's TERM, the
-e variables and KVMSCOPE_IN_KVMBOX=1. Its output (stdout and stderr)
comes out on stdout; standard input is passed on, with end-of-file.
In a terminal, ^C goes to the program inside; ^] x quits the sandbox.
SIGINT, SIGTERM or SIGHUP sent to kvmbox stop the sandbox (exit 128+n).

options:
  -w DIR     share host DIR writable at the same path (repeatable)
  -C DIR     working directory inside (default: the current one when
             visible inside, else the first -w DIR, else /)
  -e VAR=VAL environment variable for CMD (repeatable)
  -t SECS    time limit of the whole sandbox (default 1800; also 90s, 5m)
  -m MEM     guest memory (default 4G)
  -c CPUS    virtual CPUs (default 2)
  -v         report timings on stderr
  -s         interactive shell instead of CMD

environment: KVMBOX_DIR (cache folder), KVMBOX_QEMU (QEMU binary),
KVMBOX_APPEND (extra kernel command line, e.g. kvmbox_rescue=1)
`

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	ctx, cancel := signalContext()
	defer cancel(nil)
	if len(args) > 0 && args[0] == "setup" {
		if len(args) > 1 {
			fmt.Fprintf(os.Stderr, "kvmbox setup: takes no arguments\n%s", usage)
			return exitSetupFailed
		}
		if err := kvmbox.Setup(ctx, os.Stdout); err != nil {
			if cause := context.Cause(ctx); cause != nil {
				err = cause
			}
			fmt.Fprintf(os.Stderr, "kvmbox setup: %v\n", err)
			return exitSetupFailed
		}
		return 0
	}
	opts, err := parseArgs(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Print(usage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kvmbox: %v\n%s", err, usage)
		return exitSandbox
	}
	status, err := kvmbox.Run(ctx, opts)
	var sig signalError
	switch {
	case err == nil:
		return status
	case errors.As(err, &sig):
		fmt.Fprintf(os.Stderr, "kvmbox: %v: stopped the sandbox\n", sig)
		return 128 + int(sig.Signal.(syscall.Signal))
	case errors.Is(err, kvmbox.ErrTimeout):
		fmt.Fprintf(os.Stderr, "kvmbox: %v\n", err)
		return exitTimeout
	default:
		fmt.Fprintf(os.Stderr, "kvmbox: %v\n", err)
		return exitSandbox
	}
}

// signalError is the cause of the context's cancellation on a signal.
type signalError struct {
	Signal os.Signal
}

func (e signalError) Error() string { return "received " + e.Signal.String() }

// signalContext is cancelled, with the signal as cause, on SIGINT,
// SIGTERM or SIGHUP; Run then stops QEMU and returns.
func signalContext() (context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-ch
		cancel(signalError{s})
	}()
	return ctx, cancel
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// secondsFlag reads a time limit as seconds ("90", "1.5") or a Go
// duration ("90s", "5m").
type secondsFlag struct{ d *time.Duration }

func (s secondsFlag) String() string {
	if s.d == nil {
		return ""
	}
	return s.d.String()
}

func (s secondsFlag) Set(v string) error {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f <= 0 || f > 1e9 {
			return errors.New("want a positive number of seconds")
		}
		*s.d = time.Duration(f * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return errors.New("want seconds (e.g. 90) or a duration (e.g. 5m)")
	}
	*s.d = d
	return nil
}

// parseArgs reads the run options; the command follows the options (after
// "--" or the first word that is not an option).
func parseArgs(args []string, errOut io.Writer) (kvmbox.Options, error) {
	o := kvmbox.Options{Timeout: kvmbox.DefaultTimeout, Memory: kvmbox.DefaultMemory, CPUs: kvmbox.DefaultCPUs}
	fs := flag.NewFlagSet("kvmbox", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var writable, env listFlag
	fs.Var(&writable, "w", "")
	fs.Var(&env, "e", "")
	fs.Var(secondsFlag{&o.Timeout}, "t", "")
	fs.StringVar(&o.Memory, "m", o.Memory, "")
	fs.IntVar(&o.CPUs, "c", o.CPUs, "")
	fs.StringVar(&o.Dir, "C", "", "")
	fs.BoolVar(&o.Verbose, "v", false, "")
	fs.BoolVar(&o.Shell, "s", false, "")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.CPUs < 1 {
		return o, fmt.Errorf("bad CPU count %d", o.CPUs)
	}
	o.Writable, o.Env, o.Command = writable, env, fs.Args()
	return o, o.Validate()
}
