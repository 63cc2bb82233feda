# kvmscope: `make run` runs the main job, `make test` every test. Both set
# up what they need on a fresh Debian bookworm machine (run as root).
GO      ?= go
KVMBOX  := bin/kvmbox
KVMSCOPE:= bin/kvmscope
HAVE_KVM := $(shell [ -c /dev/kvm ] && [ -w /dev/kvm ] && echo yes)
# Inside kvmbox when this machine has no /dev/kvm.
IN_KVM  := $(if $(HAVE_KVM),,$(KVMBOX) -t 600 -w $(CURDIR) --)

.PHONY: all build setup run test test-host test-kvm bench fuzz samples linux-sample debian-initramfs vet fmt-check clean

all: build

build:
	$(GO) build -o $(KVMSCOPE) ./cmd/kvmscope
	$(GO) build -o $(KVMBOX) ./cmd/kvmbox

# setup: Go modules, and where there is no /dev/kvm the nested-KVM sandbox
# (QEMU from bookworm-backports, the Debian kernel, its initramfs).
setup: build
	$(GO) mod download
	$(if $(HAVE_KVM),@echo "/dev/kvm is here: no sandbox needed",$(KVMBOX) setup)
	@missing=$$(for t in $(TEST_CLIENTS); do command -v $${t%%:*} >/dev/null || echo $${t#*:}; done); \
	if [ -n "$$missing" ]; then \
		echo "installing the tests' real clients:" $$missing; \
		apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $$missing >/dev/null; \
	fi

# The programs the tests drive for real, as COMMAND:PACKAGE: gdb and LLDB
# on the stub, tmux as the TUI's terminal, and Debian's mkinitramfs for
# the initramfs of debian-initramfs.
TEST_CLIENTS := gdb:gdb lldb:lldb tmux:tmux mkinitramfs:initramfs-tools

# run: the TUI on the demo guest; inside kvmbox (which carries the
# terminal's type and size and passes the keys) when there is no /dev/kvm.
run: setup
	$(if $(HAVE_KVM),,$(KVMBOX) -t 86400 -w $(CURDIR) --) $(KVMSCOPE) tui sample:demo

test: setup vet fmt-check test-host test-kvm

vet:
	$(GO) vet ./...

fmt-check:
	@bad=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi

# Host tests: everything; tests that need KVM skip here (or run, with /dev/kvm).
test-host:
	$(GO) test -race ./...

# KVM tests: built here, run inside kvmbox when there is no /dev/kvm.
test-kvm: debian-initramfs
	scripts/kvm-tests

bench: setup
	scripts/kvm-tests -bench .

FUZZTIME ?= 30s
fuzz:
	scripts/fuzz $(FUZZTIME)

samples:
	$(MAKE) -C samples

# The Linux guest (samples/linux): the kernel of `kvmbox setup` and a busybox
# initramfs, into samples/linux/build (not committed); run it with
# `kvmscope run sample:linux`.
linux-sample:
	$(GO) run ./samples/linux/mkinitramfs -o samples/linux/build

# An initramfs made by Debian's own initramfs-tools for the kernel of
# `kvmbox setup`, into samples/linux/build/debian (not committed), for
# TestGDBLinuxDebianInitramfs: a guest whose init nobody here wrote. Needs
# root; does nothing when it is up to date.
debian-initramfs:
	samples/linux/debian-initrd/build.sh

clean:
	rm -rf bin
