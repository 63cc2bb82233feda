package kvmbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Where apt reads its sources, and where setup adds the backports entry:
// a file of its own, so the machine's files stay as they were.
const (
	aptSourcesList = "/etc/apt/sources.list"
	aptSourcesDir  = "/etc/apt/sources.list.d"
	backportsName  = "kvmbox-backports"
)

// sourceLine is one entry of the one-line format:
// "deb [options] URI SUITE COMPONENT...".
type sourceLine struct {
	Type, Options, URI, Suite string
	Components                []string
}

// parseOneLine reads the entries of a sources.list-style file.
func parseOneLine(text string) []sourceLine {
	var out []sourceLine
	for _, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		typ, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		var opts string
		if strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				continue
			}
			opts, rest = strings.TrimSpace(rest[1:end]), strings.TrimSpace(rest[end+1:])
		}
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		out = append(out, sourceLine{Type: typ, Options: opts, URI: f[0], Suite: f[1], Components: f[2:]})
	}
	return out
}

// deb822Field is one field of a deb822 stanza; Value keeps continuation
// lines (an inline Signed-By key, for example) as they were written.
type deb822Field struct {
	Name, Value string
}

type deb822Stanza []deb822Field

// get returns a field's value (names are case-insensitive) and whether
// it is there.
func (s deb822Stanza) get(name string) (string, bool) {
	for _, f := range s {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

func (s deb822Stanza) words(name string) []string {
	v, _ := s.get(name)
	return strings.Fields(v)
}

// enabled is false for a stanza with "Enabled: no".
func (s deb822Stanza) enabled() bool {
	v, ok := s.get("Enabled")
	return !ok || !strings.EqualFold(strings.TrimSpace(v), "no")
}

// parseDeb822 reads the stanzas of a .sources file.
func parseDeb822(text string) []deb822Stanza {
	var out []deb822Stanza
	var cur deb822Stanza
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
		}
		cur = nil
	}
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case strings.HasPrefix(line, "#"):
		case line[0] == ' ' || line[0] == '\t':
			if len(cur) > 0 {
				cur[len(cur)-1].Value += "\n" + line
			}
		default:
			name, value, ok := strings.Cut(line, ":")
			if ok {
				cur = append(cur, deb822Field{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
			}
		}
	}
	flush()
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// backportsSource decides whether apt needs a CODENAME-backports entry
// and writes one on the mirror of the machine's CODENAME entry, in that
// entry's format. files maps source file paths (*.list: one-line,
// *.sources: deb822) to their contents. It returns the file to write
// ("" when backports is already configured) and its contents.
func backportsSource(files map[string]string, codename string) (path, content string, err error) {
	want := codename + "-backports"
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	// The main sources.list comes first: it is the machine's own entry.
	sort.SliceStable(paths, func(i, j int) bool { return paths[i] == aptSourcesList && paths[j] != aptSourcesList })

	var line *sourceLine
	var stanza deb822Stanza
	for _, p := range paths {
		text := files[p]
		if strings.HasSuffix(p, ".sources") {
			for _, s := range parseDeb822(text) {
				if !s.enabled() || !contains(s.words("Types"), "deb") {
					continue
				}
				suites := s.words("Suites")
				if contains(suites, want) {
					return "", "", nil
				}
				if stanza == nil && line == nil && contains(suites, codename) {
					stanza = s
				}
			}
			continue
		}
		for _, l := range parseOneLine(text) {
			if l.Type != "deb" {
				continue
			}
			if l.Suite == want {
				return "", "", nil
			}
			if stanza == nil && line == nil && l.Suite == codename {
				l := l
				line = &l
			}
		}
	}
	header := "# Added by kvmbox setup: QEMU >= 10 for the nested-KVM sandbox.\n"
	switch {
	case line != nil:
		opts := ""
		if line.Options != "" {
			opts = "[" + line.Options + "] "
		}
		return filepath.Join(aptSourcesDir, backportsName+".list"),
			fmt.Sprintf("%sdeb %s%s %s main\n", header, opts, line.URI, want), nil
	case stanza != nil:
		var b strings.Builder
		b.WriteString(header)
		b.WriteString("Types: deb\n")
		for _, f := range stanza {
			switch strings.ToLower(f.Name) {
			case "types", "suites", "components", "enabled":
				continue
			}
			sep := " "
			if strings.HasPrefix(f.Value, "\n") { // value starts on the next line
				sep = ""
			}
			fmt.Fprintf(&b, "%s:%s%s\n", f.Name, sep, f.Value)
		}
		fmt.Fprintf(&b, "Suites: %s\nComponents: main\n", want)
		return filepath.Join(aptSourcesDir, backportsName+".sources"), b.String(), nil
	}
	return "", "", fmt.Errorf("no %q entry in apt's sources to take the mirror from: add %s yourself", codename, want)
}

// readAptSources reads the files apt reads: sources.list and the *.list
// and *.sources files of sources.list.d (others, such as *.disabled,
// apt ignores too).
func readAptSources() (map[string]string, error) {
	files := map[string]string{}
	if b, err := os.ReadFile(aptSourcesList); err == nil {
		files[aptSourcesList] = string(b)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read apt sources: %w", err)
	}
	entries, err := os.ReadDir(aptSourcesDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read apt sources: %w", err)
	}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !(strings.HasSuffix(n, ".list") || strings.HasSuffix(n, ".sources")) {
			continue
		}
		p := filepath.Join(aptSourcesDir, n)
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read apt sources: %w", err)
		}
		files[p] = string(b)
	}
	return files, nil
}
