package linux

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// BenchScriptPath is where the initramfs holds benchScript.
const BenchScriptPath = "/bin/kvmscope-bench"

// BenchCommand is init's command (kvmscope.cmd) that runs the workloads,
// each a name (console, idle, fork) and its count of operations.
func BenchCommand(steps ...string) string {
	cmd := BenchScriptPath
	for _, s := range steps {
		cmd += " " + s
	}
	return cmd
}

// CheckBenchScript reports whether the built initramfs carries this
// kvmscope's /bin/kvmscope-bench. A build from before a change of the
// script would run other workloads than the host asks for (an older
// script reads its arguments differently), so the benchmark refuses it
// with the way out instead of measuring the wrong thing.
func (s Sample) CheckBenchScript() error {
	data, err := os.ReadFile(s.Initrd)
	if err != nil {
		return fmt.Errorf("read the Linux sample's initramfs: %w", err)
	}
	got, err := cpioLookup(data, BenchScriptPath[1:])
	if err != nil {
		return fmt.Errorf("%s: %w", s.Initrd, err)
	}
	if !bytes.Equal(got, benchScript) {
		return fmt.Errorf("%s holds another %s than this kvmscope's: rebuild it with \"make linux-sample\"", s.Initrd, BenchScriptPath)
	}
	return nil
}

// errNoFile says the archive has no such file.
var errNoFile = errors.New("not in the archive")

// cpioLookup returns the data of one file of a "newc" cpio archive, gzipped
// or plain: enough of a reader to look into our own initramfs.
func cpioLookup(archive []byte, name string) ([]byte, error) {
	if len(archive) >= 2 && archive[0] == 0x1f && archive[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(archive))
		if err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
		// 64 MiB is far more than the sample's archive unpacks to.
		if archive, err = io.ReadAll(io.LimitReader(zr, 64<<20)); err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
	}
	const hdrLen = 110
	for off := 0; ; {
		if len(archive)-off < hdrLen || string(archive[off:off+6]) != "070701" {
			return nil, fmt.Errorf("cpio header at %d: not a newc archive", off)
		}
		field := func(i int) (int, error) {
			v, err := strconv.ParseUint(string(archive[off+6+8*i:off+14+8*i]), 16, 32)
			return int(v), err
		}
		size, err1 := field(6)
		nameLen, err2 := field(11)
		if err := errors.Join(err1, err2); err != nil || nameLen < 1 {
			return nil, fmt.Errorf("cpio header at %d: bad size fields", off)
		}
		nameEnd := off + hdrLen + nameLen
		dataOff := nameEnd + pad4(hdrLen+nameLen)
		if dataOff+size > len(archive) || dataOff+size < dataOff {
			return nil, fmt.Errorf("cpio entry at %d: runs past the end", off)
		}
		entry := string(archive[off+hdrLen : nameEnd-1])
		switch entry {
		case name:
			return archive[dataOff : dataOff+size], nil
		case "TRAILER!!!":
			return nil, fmt.Errorf("%s: %w", name, errNoFile)
		}
		off = dataOff + size + pad4(size)
	}
}
