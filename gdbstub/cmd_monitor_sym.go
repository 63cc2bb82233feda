package gdbstub

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// monSym is `monitor sym`: each word is a name (start_kernel,
// start_kernel+0x10) printed with its address, or an address printed as
// func+off. gdb has no symbols for a kernel nobody built with debug
// information; kvmscope may (System.map, ELF, or the kernel's kallsyms).
func monSym(s *session, w *bytes.Buffer, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: sym NAME[+OFF]|ADDR...")
	}
	t := s.srv.symbolTable()
	if t == nil || t.Len() == 0 {
		return errors.New("no symbols for this guest (kvmscope run --symbols FILE)")
	}
	var missing []string
	for _, a := range args {
		if addr, err := strconv.ParseUint(a, 0, 64); err == nil {
			fmt.Fprintf(w, "%016x %s\n", addr, t.Format(addr))
			continue
		}
		addr, err := t.Resolve(a)
		if err != nil {
			missing = append(missing, a)
			continue
		}
		fmt.Fprintf(w, "%016x %s\n", addr, a)
	}
	if len(missing) > 0 {
		return fmt.Errorf("no symbol %s", strings.Join(missing, ", "))
	}
	return nil
}
