#!/bin/bash
# measure.sh KVMSCOPE [RUNS] [CPUS]: boot the Linux sample to its init under
# kvmscope and under QEMU (-accel kvm -kernel bzImage) RUNS times each,
# alternating, with the same kernel, initramfs, command line, vCPUs and
# memory, HLT exits on in both, and minimal devices; print each run's wall
# time (process start to exit through port 0xf4, init having run `exit 0`)
# and the guest's uptime when init started, then the medians and their
# ratio. Needs /dev/kvm: run it inside kvmbox on a machine without, e.g.
#   bin/kvmbox -w $PWD -t 1200 -- samples/linux/measure.sh bin/kvmscope 5 1
set -euo pipefail
kvmscope=${1:?usage: measure.sh KVMSCOPE [RUNS] [CPUS]}
runs=${2:-5}
cpus=${3:-1}
cd "$(dirname "$0")/../.."
build=samples/linux/build
kernel=$build/vmlinuz
initrd=$build/initramfs.cpio.gz
[ -f "$kernel" ] && [ -f "$initrd" ] || { echo "measure.sh: run make linux-sample first" >&2; exit 2; }
mem=256M
# linux.Cmdline (samples/linux/linux.go) with init's command.
cmdline='console=ttyS0 panic=-1 reboot=k pci=off nokaslr quiet kvmscope.cmd="exit 0"'
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

now() { date +%s.%N; }
uptime_at_init() { sed -n 's/.*kvmscope-linux: init at \([0-9.]*\)s uptime.*/\1/p' "$1" | head -1; }

run_kvmscope() {
    "$kvmscope" run --kernel "$kernel" --initrd "$initrd" --append "$cmdline" \
        --cpus "$cpus" --mem "$mem" --timeout 300s >"$1" 2>&1
}

# -M pc with SeaBIOS loading the bzImage (as -kernel does), no default
# devices, no VGA, the serial port to a file, isa-debug-exit for the
# status: QEMU exits with (status << 1) | 1.
run_qemu() {
    qemu-system-x86_64 -accel kvm -M pc -cpu host -smp "$cpus" -m "$mem" \
        -nodefaults -no-user-config -display none -vga none \
        -serial "file:$1" -device isa-debug-exit,iobase=0xf4,iosize=1 \
        -kernel "$kernel" -initrd "$initrd" -append "$cmdline" </dev/null >/dev/null 2>&1 || [ $? = 1 ]
}

printf '%-9s %4s %10s %14s\n' vmm run wall_s init_uptime_s
declare -a kw qw ku qu
for i in $(seq 1 "$runs"); do
    t0=$(now); run_kvmscope "$out/k$i"; t1=$(now)
    kw+=("$(echo "$t1 - $t0" | bc)"); ku+=("$(uptime_at_init "$out/k$i")")
    printf '%-9s %4d %10.2f %14s\n' kvmscope "$i" "${kw[-1]}" "${ku[-1]}"
    t0=$(now); run_qemu "$out/q$i"; t1=$(now)
    qw+=("$(echo "$t1 - $t0" | bc)"); qu+=("$(uptime_at_init "$out/q$i")")
    printf '%-9s %4d %10.2f %14s\n' qemu "$i" "${qw[-1]}" "${qu[-1]}"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mkw=$(median "${kw[@]}"); mqw=$(median "${qw[@]}")
mku=$(median "${ku[@]}"); mqu=$(median "${qu[@]}")
echo "median wall: kvmscope ${mkw}s, QEMU ${mqw}s, ratio $(echo "scale=2; $mkw / $mqw" | bc)x"
echo "median uptime at init: kvmscope ${mku}s, QEMU ${mqu}s, ratio $(echo "scale=2; $mku / $mqu" | bc)x"
