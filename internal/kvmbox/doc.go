// Package kvmbox runs one command inside a nested-KVM sandbox: a QEMU
// microVM on the software CPU emulator (TCG) with emulated AMD SVM and
// nested paging, booting Debian's generic amd64 kernel with the kvm and
// kvm-amd modules loaded, so the command gets a working /dev/kvm on a
// machine that has none. The host's root is shared read-only over
// virtio-9p under a throw-away tmpfs overlay; chosen host folders are
// shared writable at the same path.
//
// Setup installs QEMU and the tools, downloads the kernel package and
// builds the cached kernel image and initramfs; Run boots the sandbox
// from that cache for each command.
package kvmbox
