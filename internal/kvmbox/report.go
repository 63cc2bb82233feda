package kvmbox

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// report writes -v lines to stderr. Lines are held until QEMU exits:
// while it runs, a terminal may be in raw mode and the lines would come
// out as a staircase, or mix with the command's output.
type report struct {
	verbose bool
	w       io.Writer
	lines   []string
}

func (r *report) linef(format string, args ...any) {
	if r.verbose {
		r.lines = append(r.lines, "kvmbox: "+fmt.Sprintf(format, args...))
	}
}

// timings adds how long the boot and the command took and writes all
// lines out.
func (r *report) timings(ctl controlDir, wall time.Duration, started <-chan time.Duration, ps *os.ProcessState) {
	var boot time.Duration = -1
	select {
	case boot = <-started:
	default:
	}
	if boot >= 0 {
		r.linef("boot to command: %.2f s (host clock, from qemu start)", boot.Seconds())
	} else {
		r.linef("boot to command: the command never started")
	}
	if tl := ctl.read("timeline"); tl != "" {
		var parts []string
		for _, l := range strings.Split(tl, "\n") {
			t, what, _ := strings.Cut(l, " ")
			parts = append(parts, what+" "+t+" s")
		}
		r.linef("guest uptime: %s", strings.Join(parts, ", "))
	}
	code := "?"
	if ps != nil {
		code = strconv.Itoa(ps.ExitCode())
	}
	r.linef("qemu ran %.2f s, exit code %s", wall.Seconds(), code)
	for _, l := range r.lines {
		fmt.Fprintln(r.w, l)
	}
}

// watchStart polls for the init's "started" file and sends how long after
// start it appeared; it gives up when quit closes. Polling every 10 ms is
// far below the boot's own granularity and costs nothing noticeable.
func watchStart(ctl controlDir, start time.Time, quit <-chan struct{}) <-chan time.Duration {
	out := make(chan time.Duration, 1)
	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				if _, err := os.Stat(ctl.path("started")); err == nil {
					out <- time.Since(start)
					return
				}
			case <-quit:
				return
			}
		}
	}()
	return out
}
