package kvmbox

import (
	"os"
	"strconv"
	"strings"
)

// osRelease is what setup needs from /etc/os-release: which distribution
// (apt-based or not) and which release (backports only exist per release).
type osRelease struct {
	ID, IDLike, Codename, Pretty string
}

// readOSRelease reads /etc/os-release; a missing file gives an empty
// result, which setup then reports as an unknown host.
func readOSRelease(path string) osRelease {
	b, err := os.ReadFile(path)
	if err != nil {
		return osRelease{}
	}
	return parseOSRelease(string(b))
}

func parseOSRelease(text string) osRelease {
	var r osRelease
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		} else {
			v = strings.Trim(v, `'"`)
		}
		switch k {
		case "ID":
			r.ID = v
		case "ID_LIKE":
			r.IDLike = v
		case "VERSION_CODENAME":
			r.Codename = v
		case "PRETTY_NAME":
			r.Pretty = v
		}
	}
	if r.Pretty == "" {
		r.Pretty = strings.TrimSpace(r.ID + " " + r.Codename)
	}
	if r.Pretty == "" {
		r.Pretty = "unknown system"
	}
	return r
}

// isBookworm is the one host that setup fully supports: Debian 12, where
// QEMU 10 comes from bookworm-backports.
func (r osRelease) isBookworm() bool { return r.ID == "debian" && r.Codename == "bookworm" }
