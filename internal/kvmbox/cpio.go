package kvmbox

import (
	"fmt"
	"io"
	"strings"
)

// File type bits of a cpio header's mode, as in stat(2).
const (
	cpioTypeDir     = 0o040000
	cpioTypeRegular = 0o100000
	cpioTypeSymlink = 0o120000
	cpioTypeCharDev = 0o020000
)

// cpioWriter writes the SVR4 "newc" cpio format (magic 070701, no
// checksum), the one the kernel's initramfs unpacker reads. Writing it
// here keeps setup free of a cpio binary and lets entries such as
// /dev/console be device nodes without needing mknod on the host.
// The first error sticks and Close returns it, so a caller may add
// entries without checking each one.
// Archives written by separate writers may be concatenated: the kernel
// unpacks each in turn, later entries replacing earlier ones.
type cpioWriter struct {
	w   io.Writer
	ino uint32
	err error
}

func newCPIOWriter(w io.Writer) *cpioWriter {
	// Inode numbers only need to be unique within an archive for hard
	// links, which it never writes; start high to stay clear of zero.
	return &cpioWriter{w: w, ino: 1000}
}

// Dir adds a directory.
func (c *cpioWriter) Dir(name string, perm uint32) error {
	return c.entry(name, cpioTypeDir|perm&0o7777, 2, 0, 0, nil)
}

// File adds a regular file with the given contents.
func (c *cpioWriter) File(name string, perm uint32, data []byte) error {
	return c.entry(name, cpioTypeRegular|perm&0o7777, 1, 0, 0, data)
}

// Symlink adds a symbolic link pointing at target.
func (c *cpioWriter) Symlink(name, target string) error {
	return c.entry(name, cpioTypeSymlink|0o777, 1, 0, 0, []byte(target))
}

// CharDev adds a character device node.
func (c *cpioWriter) CharDev(name string, perm, major, minor uint32) error {
	return c.entry(name, cpioTypeCharDev|perm&0o7777, 1, major, minor, nil)
}

// Close writes the trailer that ends the archive; it does not close the
// underlying writer.
func (c *cpioWriter) Close() error {
	if c.err != nil {
		return c.err
	}
	c.ino = 0
	return c.entry("TRAILER!!!", 0, 1, 0, 0, nil)
}

func (c *cpioWriter) entry(name string, mode, nlink, rmajor, rminor uint32, data []byte) error {
	if c.err != nil {
		return c.err
	}
	name = strings.TrimPrefix(name, "/")
	if name == "" || strings.ContainsRune(name, 0) {
		c.err = fmt.Errorf("cpio entry: bad name %q", name)
		return c.err
	}
	if uint64(len(data)) > 0xffffffff {
		c.err = fmt.Errorf("cpio entry %s: %d bytes is too large for newc", name, len(data))
		return c.err
	}
	ino := c.ino
	if ino != 0 {
		c.ino++
	}
	// Fields: ino mode uid gid nlink mtime filesize devmajor devminor
	// rdevmajor rdevminor namesize check. mtime 0 keeps archives
	// reproducible.
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rmajor, rminor, len(name)+1, 0)
	buf := make([]byte, 0, len(hdr)+len(name)+4)
	buf = append(buf, hdr...)
	buf = append(buf, name...)
	buf = append(buf, 0)
	buf = append(buf, make([]byte, pad4(len(buf)))...)
	if _, err := c.w.Write(buf); err != nil {
		c.err = fmt.Errorf("cpio entry %s: %w", name, err)
		return c.err
	}
	if len(data) > 0 {
		if _, err := c.w.Write(data); err != nil {
			c.err = fmt.Errorf("cpio entry %s: %w", name, err)
			return c.err
		}
		if p := pad4(len(data)); p > 0 {
			if _, err := c.w.Write(make([]byte, p)); err != nil {
				c.err = fmt.Errorf("cpio entry %s: %w", name, err)
				return c.err
			}
		}
	}
	return nil
}

// pad4 is how many zero bytes bring n up to a multiple of four, the
// alignment newc requires after the name and after the data.
func pad4(n int) int { return (4 - n%4) % 4 }
