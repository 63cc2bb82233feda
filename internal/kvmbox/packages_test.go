package kvmbox

import (
	"reflect"
	"testing"
)

func TestUpstreamMajor(t *testing.T) {
	for in, want := range map[string]int{
		"1:10.0.2+ds-2+deb13u1~bpo12+1": 10,
		"1:7.2+dfsg-7+deb12u18+b3":      7,
		"10.0.2":                        10,
		"2.13.0-1":                      2,
		"":                              -1,
		"x":                             -1,
	} {
		if got := upstreamMajor(in); got != want {
			t.Errorf("upstreamMajor(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestCheckPackages(t *testing.T) {
	installed := parseDpkgQuery("qemu-system-x86\tinstalled\t1:7.2+dfsg-7\n" +
		"busybox-static\tinstalled\t1:1.35.0-4\ncpio\tnot-installed\t\n" +
		"kmod\tinstalled\t30+20221128-1\nxz-utils:amd64\tinstalled\t5.4.1-1\n")
	s := checkPackages(installed)
	if !s.QEMUOld || s.qemuOK() || s.complete() {
		t.Errorf("old QEMU not flagged: %+v", s)
	}
	if !reflect.DeepEqual(s.Missing, []string{"cpio", "zstd"}) {
		t.Errorf("missing = %v", s.Missing)
	}
	installed["qemu-system-x86"] = "1:10.0.2+ds-2"
	installed["cpio"], installed["zstd"] = "2.13", "1.5"
	if s := checkPackages(installed); !s.complete() {
		t.Errorf("complete set not complete: %+v", s)
	}
}

func TestParseKernelDepends(t *testing.T) {
	pkg, kver, err := parseKernelDepends("linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n")
	if err != nil || pkg != "linux-image-6.1.0-56-amd64" || kver != "6.1.0-56-amd64" {
		t.Fatalf("got %q %q %v", pkg, kver, err)
	}
	pkg, _, err = parseKernelDepends("linux-image-amd64\n |Depends: linux-image-6.12.9-amd64-unsigned\n  Depends: <linux-image-6.12.9-amd64>\n")
	if err != nil || pkg != "linux-image-6.12.9-amd64" {
		t.Fatalf("got %q %v", pkg, err)
	}
	if _, _, err := parseKernelDepends("linux-image-amd64\n"); err == nil {
		t.Fatal("no dependency accepted")
	}
	if _, _, err := parseKernelDepends("  Depends: linux-image-../../etc\n"); err == nil {
		t.Fatal("bad version accepted")
	}
}

func TestValidKernelVersion(t *testing.T) {
	for v, ok := range map[string]bool{"6.1.0-56-amd64": true, "": false, "../x": false, "a/b": false, ".hidden": false, "6.12.9+bpo-amd64": true} {
		if validKernelVersion(v) != ok {
			t.Errorf("validKernelVersion(%q) = %v", v, !ok)
		}
	}
}
