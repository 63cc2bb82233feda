package main

import (
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/kvmscope/kvmscope/vmm"
	"github.com/kvmscope/kvmscope/vmm/exitstats"
)

// serveMetrics serves the machine's counters for Prometheus at /metrics,
// on loopback unless a host is named (the same rule as --gdb).
func serveMetrics(spec string, m *vmm.Machine) (net.Listener, error) {
	ln, err := listen("--metrics", spec)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		kernel, _ := m.KernelStats()
		exitstats.WritePrometheus(w, m.ExitStats(), kernel)
		if snap, err := m.ExitReasons(); err == nil || snap.Events > 0 {
			exitstats.WritePrometheusReasons(w, snap.Rows)
		}
	})
	go http.Serve(ln, mux)
	fmt.Fprintf(os.Stderr, "kvmscope: metrics on http://%s/metrics\n", ln.Addr())
	return ln, nil
}
