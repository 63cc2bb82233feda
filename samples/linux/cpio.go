package linux

import (
	"fmt"
	"io"
)

// cpioWriter writes the "newc" cpio format (magic 070701), the one the
// kernel's initramfs unpacker reads. Device nodes are written as entries,
// so building needs no mknod and no root. The first error sticks; close
// returns it.
type cpioWriter struct {
	w   io.Writer
	ino uint32
	err error
}

func newCPIOWriter(w io.Writer) *cpioWriter { return &cpioWriter{w: w, ino: 1} }

const (
	cpioDir     = 0o040000
	cpioFile    = 0o100000
	cpioCharDev = 0o020000
)

func (c *cpioWriter) dir(name string, perm uint32) { c.entry(name, cpioDir|perm, 2, 0, 0, nil) }

func (c *cpioWriter) file(name string, perm uint32, data []byte) {
	c.entry(name, cpioFile|perm, 1, 0, 0, data)
}

func (c *cpioWriter) charDev(name string, perm, major, minor uint32) {
	c.entry(name, cpioCharDev|perm, 1, major, minor, nil)
}

// close writes the trailer that ends the archive.
func (c *cpioWriter) close() error {
	c.entry("TRAILER!!!", 0, 1, 0, 0, nil)
	return c.err
}

func (c *cpioWriter) entry(name string, mode, nlink, rmajor, rminor uint32, data []byte) {
	if c.err != nil {
		return
	}
	// Fields: ino mode uid gid nlink mtime filesize devmajor devminor
	// rdevmajor rdevminor namesize check; mtime 0 keeps the archive
	// reproducible.
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		c.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rmajor, rminor, len(name)+1, 0)
	c.ino++
	b := append([]byte(hdr), name...)
	b = append(b, 0)
	b = append(b, make([]byte, pad4(len(b)))...)
	b = append(b, data...)
	b = append(b, make([]byte, pad4(len(data)))...)
	if _, err := c.w.Write(b); err != nil {
		c.err = fmt.Errorf("cpio entry %s: %w", name, err)
	}
}

// pad4 is how many zero bytes bring n to a multiple of four, as newc
// wants after the header and name and after the data.
func pad4(n int) int { return (4 - n%4) % 4 }
