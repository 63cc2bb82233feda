package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/internal/kvmtest"
	"github.com/kvmscope/kvmscope/samples"
)

// TestMetrics scrapes --metrics while a guest runs.
func TestMetrics(t *testing.T) {
	kvmtest.Available(t)
	forever, _ := samples.PIOLoopImage(1 << 40)
	image := t.TempDir() + "/forever.elf"
	if err := os.WriteFile(image, forever, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "run", "--metrics", "0", "--ktrace", "--timeout", "60s", image)
	cmd.Env = append(os.Environ(), beKvmscope+"=1")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	url := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`metrics on (http://127\.0\.0\.1:\d+/metrics)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				url <- m[1]
			}
		}
	}()
	var u string
	select {
	case u = <-url:
	case <-time.After(30 * time.Second):
		t.Fatal("no metrics address printed")
	}
	var body string
	for range 50 { // until the guest has made some exits
		time.Sleep(200 * time.Millisecond)
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		if strings.Contains(body, `reason="IO unclaimed port"`) &&
			(!inKVMBox() || strings.Contains(body, `handled="user"`)) {
			break
		}
	}
	want := []string{`kvmscope_exits_total{kind="io",reason="IO unclaimed port"}`, `kvmscope_kvm_vcpu_stat{name="exits"}`}
	if inKVMBox() { // root with tracefs: the per-hardware-reason counters too
		want = append(want, `kvmscope_kvm_exits_total{reason="io",handled="user"}`, `kvmscope_kvm_exit_seconds_count{reason="io",handled="user"}`)
	}
	for _, want := range want {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	}
}
