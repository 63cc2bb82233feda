#!/bin/bash
# build.sh [OUTDIR]: build an initramfs with Debian's own initramfs-tools
# (mkinitramfs) for the kernel that kvmbox boots, so that kvmscope's gdb
# tests also run on an initramfs that nobody here wrote (issue 8). Writes
# OUTDIR/initrd.img-$KVER (default OUTDIR: samples/linux/build/debian,
# not committed); does nothing when that file is newer than this recipe.
#
# mkinitramfs reads the kernel's modules from /lib/modules/$KVER and its
# configuration from /boot/config-$KVER, fixed paths, and the host runs
# another kernel. So the recipe downloads Debian's linux-image-$KVER .deb
# (never installing it), unpacks it in a temporary folder, and runs
# mkinitramfs in a private mount namespace (unshare -m) in which that
# folder's lib/modules and boot are bind-mounted on /lib/modules and
# /boot. The host's own /lib/modules and /boot are never written: other
# processes never see the mounts, which end with the namespace; the only
# trace is an empty /lib/modules or /boot made as a mount point where the
# host had none, and removed again on exit. (A symlink would do too, but
# mkinitramfs resolves it and the image would carry the temporary path.)
#
# Needs root (apt-get, unshare -m) and the cache of `kvmbox setup`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
out=${1:-$top/samples/linux/build/debian}
cache=${KVMBOX_DIR:-/var/cache/kvmscope/kvmbox}

fail() { echo "debian-initrd: $*" >&2; exit 1; }

kver=$(cat "$cache/kernel" 2>/dev/null) || fail "no kernel recorded in $cache/kernel: run \`bin/kvmbox setup\` (make setup) first"
case $kver in ''|*/*|.*) fail "bad kernel version '$kver' in $cache/kernel" ;; esac
initrd=$out/initrd.img-$kver
if [ -s "$initrd" ] && [ "$initrd" -nt "$here/build.sh" ] && [ "$initrd" -nt "$here/initramfs.conf" ] && [ "$initrd" -nt "$here/modules" ]; then
    echo "debian-initrd: $initrd is up to date"
    exit 0
fi
[ "$(id -u)" = 0 ] || fail "needs root: apt-get download and a private mount namespace (unshare -m) for mkinitramfs"

if ! command -v mkinitramfs >/dev/null; then
    echo "debian-initrd: installing initramfs-tools"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends initramfs-tools >/dev/null
fi

work=$(mktemp -d /tmp/debian-initrd.XXXXXX)
made=()
cleanup() {
    local d
    for d in "${made[@]}"; do rmdir "$d" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

pkg=linux-image-$kver
echo "debian-initrd: downloading $pkg"
# apt's _apt sandbox user cannot write the private temporary folder.
(cd "$work" && apt-get -q -o APT::Sandbox::User=root download "$pkg" >/dev/null) ||
    fail "apt-get download $pkg failed: run apt-get update; if Debian no longer carries $pkg, \`bin/kvmbox setup\` moves the sandbox to the current kernel"
debs=("$work/${pkg}_"*.deb)
[ ${#debs[@]} = 1 ] && [ -f "${debs[0]}" ] || fail "apt-get download $pkg: expected one .deb in $work"
dpkg-deb -x "${debs[0]}" "$work/root"
[ -d "$work/root/lib/modules/$kver" ] && [ -f "$work/root/boot/config-$kver" ] ||
    fail "${debs[0]} has no lib/modules/$kver or boot/config-$kver"
# The modules are only useful to the kernel they were built with. Debian
# keeps a version's name across rebuilds only when its ABI stays, so a
# different bzImage here is worth a warning, not a failure.
if ! cmp -s "$work/root/boot/vmlinuz-$kver" "$cache/vmlinuz-$kver"; then
    echo "debian-initrd: warning: $(basename "${debs[0]}") has another vmlinuz-$kver than $cache (a rebuild of the same ABI?)" >&2
fi

# mkinitramfs -d: our initramfs.conf and module list in place of the
# host's /etc/initramfs-tools (whose MODULES=most would take 30 MiB).
conf=$work/conf
mkdir -p "$conf/conf.d" "$conf/hooks" "$conf/scripts"
cp "$here/initramfs.conf" "$here/modules" "$conf/"

for d in /lib/modules /boot; do
    if [ ! -e "$d" ]; then
        mkdir "$d"
        made+=("$d")
    fi
done
mkdir -p "$out"
tmp=$out/.initrd.img-$kver.tmp
echo "debian-initrd: mkinitramfs -d $conf -o $initrd $kver"
unshare --mount --propagation private -- sh -ec '
    mount --bind "$1/lib/modules" /lib/modules
    mount --bind "$1/boot" /boot
    mkinitramfs -d "$2" -o "$3" "$4"
' sh "$work/root" "$conf" "$tmp" "$kver" || { rm -f "$tmp"; fail "mkinitramfs failed"; }
mv "$tmp" "$initrd"
echo "debian-initrd: wrote $initrd ($(stat -c %s "$initrd") bytes)"
