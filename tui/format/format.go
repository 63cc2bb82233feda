// Package format prints the TUI's numbers compactly: counts, rates,
// durations and sparklines that fit narrow table columns.
package format

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Count prints n in at most 6 cells: 1234, 12.3k, 4.56M.
func Count(n uint64) string {
	switch {
	case n < 100000:
		return fmt.Sprint(n)
	case n < 10_000_000:
		return trim(fmt.Sprintf("%.1fk", float64(n)/1e3))
	case n < 10_000_000_000:
		return trim(fmt.Sprintf("%.1fM", float64(n)/1e6))
	}
	return trim(fmt.Sprintf("%.1fG", float64(n)/1e9))
}

// Rate prints events per second in at most 6 cells.
func Rate(r float64) string {
	switch {
	case r <= 0 || math.IsNaN(r):
		return "0"
	case r < 10:
		return trim(fmt.Sprintf("%.1f", r))
	case r < 100000:
		return fmt.Sprintf("%.0f", r)
	case r < 10e6:
		return trim(fmt.Sprintf("%.1fk", r/1e3))
	}
	return trim(fmt.Sprintf("%.1fM", r/1e6))
}

// Duration prints a latency in at most 6 cells: 850ns, 5.2µs, 52µs, 1.3ms.
func Duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < 10*time.Microsecond:
		return trim(fmt.Sprintf("%.1fµs", float64(d)/1e3))
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Millisecond:
		return trim(fmt.Sprintf("%.1fms", float64(d)/1e6))
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return trim(fmt.Sprintf("%.1fs", d.Seconds()))
}

// trim drops a ".0" before the unit.
func trim(s string) string {
	if i := strings.Index(s, ".0"); i >= 0 && (i+2 == len(s) || s[i+2] < '0' || s[i+2] > '9') {
		return s[:i] + s[i+2:]
	}
	return s
}

var blocks = []rune(" ▁▂▃▄▅▆▇█")

// Sparkline draws the last width values, scaled to their maximum.
func Sparkline(vals []float64, width int) string {
	if len(vals) > width {
		vals = vals[len(vals)-width:]
	}
	top := 0.0
	for _, v := range vals {
		top = max(top, v)
	}
	var b strings.Builder
	for i := 0; i < width-len(vals); i++ {
		b.WriteRune(' ')
	}
	for _, v := range vals {
		i := 0
		if top > 0 && v > 0 {
			i = 1 + int(v/top*float64(len(blocks)-2)+0.5)
			i = min(i, len(blocks)-1)
		}
		b.WriteRune(blocks[i])
	}
	return b.String()
}
