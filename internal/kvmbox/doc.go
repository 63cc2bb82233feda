// Package kvmbox runs one command inside a nested-KVM sandbox: a QEMU
// virtual machine on the software CPU emulator (TCG) with emulated AMD SVM
// and nested paging, booting Debian's generic amd64 kernel with the kvm
// and kvm-amd modules loaded, so the command gets a working /dev/kvm on a
// machine that has none.
//
// Inside, the host's root is shared read-only over virtio-9p under a
// throw-away tmpfs overlay (so it is writable, and writes vanish), with
// fresh tmpfs mounts on /tmp, /run and /var/tmp, tracefs on
// /sys/kernel/tracing (for KVM's trace events); each writable share is
// a host folder mounted at the same path; only loopback networking. The
// command runs as root with PATH (including /usr/local/go/bin), HOME=/root,
// the host's TERM, GOTOOLCHAIN=local, GOPROXY=off, KVMSCOPE_REQUIRE_KVM=1,
// the caller's variables, and always KVMSCOPE_IN_KVMBOX=1.
//
// Setup (root, apt) installs QEMU >= 10 and the tools and builds the
// cache in Dir(): the kernel version chosen ("kernel"), the PVH-bootable
// vmlinux-KVER, the base initramfs initrd-KVER.cpio (busybox + modules),
// and vmlinuz-KVER and config-KVER for reference. Run boots from that
// cache, appending the init script embedded in this package.
//
// How the pieces talk: standard output is a virtio console (a serial
// line when it is a terminal); standard input, unless it is a terminal,
// arrives on a virtio serial port that reports end-of-file; the exit
// status comes back through a file on a per-run control share, with
// QEMU's isa-debug-exit code as a fallback.
//
// Variables: KVMBOX_DIR moves the cache; KVMBOX_QEMU picks the QEMU
// binary; KVMBOX_APPEND adds kernel command-line words (kvmbox_rescue=1
// gives a busybox shell in the initramfs, kvmbox_overlay=0 a bare
// read-only root); KVMSCOPE_REQUIRE_KVMBOX=1 makes the boot tests fail
// instead of skipping when the cache is not set up.
package kvmbox
