package vmm

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Binary size units.
const (
	KiB = 1 << 10
	MiB = 1 << 20
	GiB = 1 << 30
	TiB = 1 << 40
)

// ParseSize reads a memory size: a number with an optional binary unit
// suffix K, M, G or T (KiB, MiB, ... also accepted); a bare number is MiB.
func ParseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("size %q: empty", s)
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("size %q: want a number with an optional unit K, M, G or T", s)
	}
	n, err := strconv.ParseUint(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	var unit uint64
	switch strings.ToUpper(strings.TrimSuffix(strings.TrimSuffix(t[i:], "iB"), "B")) {
	case "":
		unit = MiB
	case "K":
		unit = KiB
	case "M":
		unit = MiB
	case "G":
		unit = GiB
	case "T":
		unit = TiB
	default:
		return 0, fmt.Errorf("size %q: unknown unit %q (want K, M, G or T)", s, t[i:])
	}
	if n > (1<<64-1)/unit {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return n * unit, nil
}

// FormatSize prints a size in the largest binary unit that divides it.
func FormatSize(n uint64) string {
	for _, u := range []struct {
		size uint64
		name string
	}{{TiB, "T"}, {GiB, "G"}, {MiB, "M"}, {KiB, "K"}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatUint(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatUint(n, 10) + " bytes"
}

// HostMemory reads MemTotal from /proc/meminfo.
func HostMemory() (uint64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb uint64
		if _, err := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); err == nil {
			return kb * KiB, nil
		}
	}
	return 0, fmt.Errorf("no MemTotal in /proc/meminfo")
}
