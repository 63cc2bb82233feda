// Package kut reads a kvm-unit-tests build for `kvmscope kut`: the tests
// of its x86/unittests.cfg, how each is to be run (under kvmscope and
// under QEMU, with the options the suite's own x86/run uses), and what the
// exit status of a run means, as the suite's scripts read it.
//
// Nothing of kvm-unit-tests is in here: the format is re-read from its
// scripts (scripts/common.bash's for_each_unittest, scripts/runtime.bash's
// run, scripts/arch-run.bash and x86/run), and the package is tested on a
// configuration of kvmscope's own (samples/kut-mini).
package kut
