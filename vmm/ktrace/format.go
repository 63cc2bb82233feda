package ktrace

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// field is where one field of an event record lies.
type field struct {
	offset, size int
	signed       bool
}

// eventFormat is what an events/<system>/<event>/format file says: the
// event's type id, its fields and its print format.
type eventFormat struct {
	name   string
	id     uint16
	fields map[string]field
	print  string
}

// parseFormat reads a tracefs format file. It never panics on bad input:
// a file it cannot read is an error naming what is missing.
func parseFormat(data []byte) (*eventFormat, error) {
	f := &eventFormat{fields: map[string]field{}}
	haveID := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20) // kvm_exit's print fmt is a long line
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "name:"):
			f.name = strings.TrimSpace(strings.TrimPrefix(line, "name:"))
		case strings.HasPrefix(line, "ID:"):
			id, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(line, "ID:")), 10, 16)
			if err != nil {
				return nil, fmt.Errorf("format %q: bad ID: %w", f.name, err)
			}
			f.id, haveID = uint16(id), true
		case strings.HasPrefix(line, "field:"):
			name, fl, err := parseField(line)
			if err != nil {
				return nil, fmt.Errorf("format %q: %w", f.name, err)
			}
			f.fields[name] = fl
		case strings.HasPrefix(line, "print fmt:"):
			f.print = strings.TrimSpace(strings.TrimPrefix(line, "print fmt:"))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("format %q: %w", f.name, err)
	}
	if !haveID {
		return nil, fmt.Errorf("format %q: no ID line", f.name)
	}
	return f, nil
}

// parseField reads a line such as
//
//	field:unsigned int exit_reason;	offset:8;	size:4;	signed:0;
func parseField(line string) (string, field, error) {
	var fl field
	parts := strings.Split(line, ";")
	if len(parts) < 3 {
		return "", fl, fmt.Errorf("field line %q: want declaration, offset and size", line)
	}
	decl := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(parts[0]), "field:"))
	if i := strings.IndexByte(decl, '['); i >= 0 { // char comm[16]
		decl = decl[:i]
	}
	words := strings.Fields(decl)
	if len(words) == 0 {
		return "", fl, fmt.Errorf("field line %q: no name", line)
	}
	name := words[len(words)-1]
	haveOff, haveSize := false, false
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(p), ":")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return "", fl, fmt.Errorf("field %s: bad %s %q", name, k, v)
		}
		switch k {
		case "offset":
			fl.offset, haveOff = n, true
		case "size":
			fl.size, haveSize = n, true
		case "signed":
			fl.signed = n != 0
		}
	}
	if !haveOff || !haveSize || fl.offset < 0 || fl.size < 0 {
		return "", fl, fmt.Errorf("field %s: no offset or size", name)
	}
	return name, fl, nil
}

// need returns the named field, checking that it is an integer of one of
// the sizes the decoder reads.
func (f *eventFormat) need(name string) (field, error) {
	fl, ok := f.fields[name]
	if !ok {
		return fl, fmt.Errorf("event %s has no field %s", f.name, name)
	}
	switch fl.size {
	case 1, 2, 4, 8:
		return fl, nil
	}
	return fl, fmt.Errorf("event %s field %s: size %d is not an integer's", f.name, name, fl.size)
}

// symbolTables extracts the value→name tables of the __print_symbolic()
// calls in a print format, in order. kvm_exit's has two: VMX reasons
// (for isa == 1) and then SVM reasons. Entries look like
// { 0x040 + 14, "PF excp" }, { -1, "invalid_guest_state" } or, with C's
// string concatenation, { 2, "KVM_EXIT_" "IO" }.
func symbolTables(print string) []map[uint32]string {
	var tables []map[uint32]string
	const call = "__print_symbolic("
	for {
		i := strings.Index(print, call)
		if i < 0 {
			return tables
		}
		print = print[i+len(call):]
		t := map[uint32]string{}
		depth := 0
	scan:
		for j := 0; j < len(print); j++ {
			switch print[j] {
			case '"':
				j = skipString(print, j)
			case '(':
				depth++
			case ')':
				if depth == 0 {
					print = print[j+1:]
					break scan
				}
				depth--
			case '{':
				if depth != 0 {
					continue
				}
				k := j + 1
				for k < len(print) && print[k] != '}' {
					if print[k] == '"' {
						k = skipString(print, k)
					}
					k++
				}
				if k >= len(print) {
					print = ""
					break scan
				}
				if v, name, ok := symbolEntry(print[j+1 : k]); ok {
					t[v] = name
				}
				j = k
			}
		}
		tables = append(tables, t)
	}
}

// skipString returns the index of the quote that closes the string
// starting at s[i] (or the last index, when it is not closed).
func skipString(s string, i int) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(s) - 1
}

// symbolEntry reads the inside of one { value, "name" } entry.
func symbolEntry(e string) (uint32, string, bool) {
	val, rest, ok := strings.Cut(e, ",")
	if !ok {
		return 0, "", false
	}
	v, ok := evalSum(val)
	if !ok {
		return 0, "", false
	}
	var name strings.Builder
	for {
		i := strings.IndexByte(rest, '"')
		if i < 0 {
			break
		}
		j := skipString(rest, i)
		if j <= i {
			break
		}
		name.WriteString(rest[i+1 : j])
		rest = rest[j+1:]
	}
	return v, name.String(), name.Len() > 0
}

// evalSum evaluates "0x040 + 14", "12" or "-1" as a 32-bit value.
func evalSum(s string) (uint32, bool) {
	var sum int64
	for _, term := range strings.Split(s, "+") {
		n, err := strconv.ParseInt(strings.TrimSpace(term), 0, 64)
		if err != nil {
			return 0, false
		}
		sum += n
	}
	return uint32(sum), true
}
