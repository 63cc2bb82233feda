package kvmbox

import (
	"strings"
	"testing"
)

func TestQEMUArgs(t *testing.T) {
	cfg := qemuConfig{
		Kernel: "/c/vmlinux", Initrd: "/r/initrd", Memory: "4G", CPUs: 2,
		CtlDir: "/tmp/a,b/ctl",
		Shares: []share{{"kvmboxw0", "/srv/x,y"}},
	}
	line := strings.Join(qemuArgs(cfg), " ")
	for _, want := range []string{
		"-accel tcg,thread=multi", "-cpu qemu64,+svm,+npt", "-smp 2", "-m 4G",
		"-kernel /c/vmlinux", "-initrd /r/initrd",
		"-chardev stdio,id=con,mux=on -serial chardev:con",
		"virtconsole,bus=vser.0,chardev=con", "kvmbox_hvc=1",
		"isa-debug-exit,iobase=0xf4",
		"local,id=hostroot,path=/,security_model=none,readonly=on",
		"path=/tmp/a,,b/ctl,", "local,id=kvmboxw0,path=/srv/x,,y,", "mount_tag=kvmboxw0",
	} {
		if !strings.Contains(line, want) {
			t.Errorf("command line lacks %q:\n%s", want, line)
		}
	}
	for _, not := range []string{"kvmbox_tty", "kvmbox_stdin", "virtserialport", "signal=off", "-echr"} {
		if strings.Contains(line, not) {
			t.Errorf("command line has %q:\n%s", not, line)
		}
	}

	cfg.TTY = true
	line = strings.Join(qemuArgs(cfg), " ")
	for _, want := range []string{"stdio,id=con,mux=on,signal=off", "-echr 0x1d", "kvmbox_tty=1"} {
		if !strings.Contains(line, want) {
			t.Errorf("terminal command line lacks %q:\n%s", want, line)
		}
	}
	for _, not := range []string{"virtconsole", "kvmbox_hvc"} {
		if strings.Contains(line, not) {
			t.Errorf("terminal command line has %q:\n%s", not, line)
		}
	}

	cfg.TTY, cfg.StdinPort, cfg.Append = false, true, "kvmbox_rescue=1"
	line = strings.Join(qemuArgs(cfg), " ")
	for _, want := range []string{"input-path=/proc/self/fd/3", "name=kvmbox.stdin", "kvmbox_stdin=1 kvmbox_rescue=1"} {
		if !strings.Contains(line, want) {
			t.Errorf("stdin-port command line lacks %q:\n%s", want, line)
		}
	}
}
