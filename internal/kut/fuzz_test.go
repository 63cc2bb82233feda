package kut

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParse: unittests.cfg is a file from elsewhere; Parse and Split never
// panic on it, and what Split accepts splits the same way again when its
// words are quoted back.
func FuzzParse(f *testing.F) {
	f.Add([]byte("[vmexit_cpuid]\nfile = vmexit.flat\nextra_params = -append 'cpuid'\ngroups = vmexit\n"))
	f.Add([]byte("[smptest]\nfile = smptest.flat\nsmp = 2\ntimeout = 90s\n"))
	f.Add([]byte("[x]\nqemu_params = \"\"\"\n-cpu max\n-m 256\n\"\"\"\narch = x86_64\n"))
	f.Add([]byte("[kvmclock_test]\nextra_params = --append \"10000000 `date +%s`\"\n"))
	f.Add([]byte("[y]\nextra_params = \"\"\"\nnever closed\n"))
	f.Fuzz(func(t *testing.T, cfg []byte) {
		tests, err := Parse(bytes.NewReader(cfg))
		if err != nil {
			return
		}
		for _, tt := range tests {
			if tt.Name == "" && tt.Line == 0 {
				t.Fatalf("a test with neither name nor line: %+v", tt)
			}
		}
		for _, line := range strings.Split(string(cfg), "\n") {
			words, err := Split(line)
			if err != nil {
				continue
			}
			quoted := make([]string, len(words))
			for i, w := range words {
				quoted[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
			}
			again, err := Split(strings.Join(quoted, " "))
			if err != nil || len(again) != len(words) {
				t.Fatalf("Split(%q) = %q; quoted back it gives %q, %v", line, words, again, err)
			}
			for i := range words {
				if again[i] != words[i] {
					t.Fatalf("Split(%q) = %q; quoted back it gives %q", line, words, again)
				}
			}
		}
	})
}
