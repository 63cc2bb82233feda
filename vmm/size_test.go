package vmm

import "testing"

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
		bad  bool
	}{
		{"64", 64 * MiB, false}, {"64M", 64 * MiB, false}, {"1G", GiB, false},
		{"512K", 512 * KiB, false}, {"2GiB", 2 * GiB, false}, {"1t", TiB, false},
		{"0", 0, false}, {"", 0, true}, {"M", 0, true}, {"12Q", 0, true},
		{"-1", 0, true}, {"99999999999999999999", 0, true}, {"17179869184T", 0, true},
	} {
		got, err := ParseSize(c.in)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, error %v", c.in, got, err, c.want, c.bad)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{MemSize: 64 * MiB, CPUs: 1}, true},
		{Config{MemSize: 0, CPUs: 1}, false},
		{Config{MemSize: TiB * 1024, CPUs: 1}, false},
		{Config{MemSize: 64*MiB + 1, CPUs: 1}, false},
		{Config{MemSize: 64 * MiB, CPUs: 0}, false},
		{Config{MemSize: 64 * MiB, CPUs: 65}, false},
	} {
		if err := c.cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("Validate(%+v) = %v", c.cfg, err)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"64", "1G", "512KiB", "x", "18446744073709551615T"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err == nil && n > 0 && FormatSize(n) == "" {
			t.Fatal("empty format")
		}
	})
}
