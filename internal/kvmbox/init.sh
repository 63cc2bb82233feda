#!/bin/busybox sh
# /init of the kvmbox sandbox: a busybox-static initramfs with the kernel
# modules that setup chose (see initramfs.go); run.go appends this file to
# it at each boot and starts QEMU with these virtio-9p shares:
#   hostroot   host "/" read-only     -> /lower, under a tmpfs overlay -> /host
#   kvmboxctl  per-run control folder -> /ctl (cmd.sh, mounts; we write
#              started, status, error, timeline)
#   kvmboxwN   writable host folders  -> /host<same path>, listed in /ctl/mounts
# The kernel hands its command line's NAME=VALUE words to us as variables:
#   kvmbox_tty=1       the host console is a terminal: give the command the
#                      serial line as controlling tty, keep CR/LF translation
#   kvmbox_hvc=1       output goes to the virtio console hvc0 once it is there
#   kvmbox_stdin=1     standard input arrives on virtio port "kvmbox.stdin"
#                      (otherwise it is /dev/null, or the tty)
#   kvmbox_rescue=1    a busybox shell here instead of the command
# The command's status goes to /ctl/status (exact, 0-255) and, as a
# fallback, to QEMU's exit code through isa-debug-exit at port 0xf4.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec 0</dev/console 1>/dev/console 2>&1
echo 1 >/proc/sys/kernel/printk                 # keep kernel messages off the console
if [ "$kvmbox_tty" != 1 ]; then
    stty -opost -echo 2>/dev/null               # output is a pipe or file: bytes as they are
fi

timeline=/run/timeline
mark() { echo "$(cut -d' ' -f1 /proc/uptime) $*" >>"$timeline"; }

# finish STATUS: flush everything and power off, telling QEMU the status.
finish() {
    sync
    # busybox stty uses tcsetattr(TCSADRAIN): it returns once the console
    # has sent all output, so nothing is cut off by the power-off.
    if [ "$kvmbox_tty" = 1 ]; then stty onlcr 2>/dev/null; else stty -opost 2>/dev/null; fi
    [ -c /dev/hvc0 ] && stty -F /dev/hvc0 -opost 2>/dev/null
    # isa-debug-exit: QEMU exits with ((STATUS & 127) << 1) | 1
    printf "\\$(printf %o $(($1 & 127)))" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
    poweroff -f
    while :; do sleep 1; done                   # pid 1 must never exit
}

# fail MESSAGE: the sandbox itself failed (status 125).
fail() {
    echo "kvmbox-init: $*" >&2
    if [ -n "$ctl" ]; then
        echo "$*" >/ctl/error
        echo 125 >/ctl/status
    fi
    finish 125
}
mark "init started"

for m in $(cat /lib/modules/order); do
    insmod "/lib/modules/$m.ko" || fail "loading module $m failed"
done
[ -c /dev/kvm ] || fail "no /dev/kvm after loading kvm_amd"
if [ "$kvmbox_hvc" = 1 ]; then                  # output through the virtio console from here on
    i=0
    while [ ! -c /dev/hvc0 ] && [ $i -lt 200 ]; do sleep 0.01; i=$((i + 1)); done
    if [ -c /dev/hvc0 ]; then
        exec 1>/dev/hvc0 2>&1
        stty -F /dev/hvc0 -opost -echo 2>/dev/null
    fi
fi
mark "modules loaded"

stdin=/dev/null
if [ "$kvmbox_stdin" = 1 ]; then
    # The port shows up once the host has announced it. Found here, well
    # before the command reads it, so that the host's "connected" message
    # (which follows the port's name) has surely arrived by then: a read
    # before it would see end-of-file.
    i=0
    while [ "$stdin" = /dev/null ] && [ $i -lt 200 ]; do
        for p in /sys/class/virtio-ports/*; do
            [ "$(cat "$p/name" 2>/dev/null)" = kvmbox.stdin ] && [ -c "/dev/${p##*/}" ] &&
                stdin=/dev/${p##*/}
        done
        [ "$stdin" = /dev/null ] && sleep 0.01
        i=$((i + 1))
    done
    [ "$stdin" = /dev/null ] && fail "no virtio port for standard input"
fi

O9P=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o $O9P,cache=none kvmboxctl /ctl || fail "mounting the control share failed"
ctl=1
cat "$timeline" >>/ctl/timeline
timeline=/ctl/timeline

if [ "$kvmbox_overlay" = 0 ]; then              # debugging: the bare read-only root
    mount -t 9p -o $O9P,ro,cache=loose hostroot /host || fail "mounting the host root failed"
else                                            # host root (ro) + tmpfs upper: writable, thrown away
    mount -t 9p -o $O9P,ro,cache=loose hostroot /lower || fail "mounting the host root failed"
    mount -t tmpfs -o mode=755 rw /rw && mkdir -p /rw/upper /rw/work
    mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work root /host ||
        fail "mounting the overlay root failed"
fi
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
# tracefs: the kvm:kvm_exit/kvm_entry events that `kvmscope run --stats`
# reads for per-hardware-reason counts (as root, as here). A kernel
# without it is not an error: kvmscope says the source is missing.
mount -t tracefs tracefs /host/sys/kernel/tracing 2>/dev/null
mount -t devtmpfs dev /host/dev
# devtmpfs has none of these links; bash's <(...) and many scripts need them.
for f in fd:/proc/self/fd stdin:/proc/self/fd/0 stdout:/proc/self/fd/1 stderr:/proc/self/fd/2; do
    ln -sf "${f#*:}" "/host/dev/${f%%:*}"
done
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /host/dev/pts
ln -sf pts/ptmx /host/dev/ptmx
mount -t tmpfs -o mode=1777 shm /host/dev/shm
mount -t tmpfs -o mode=1777 tmp /host/tmp
mount -t tmpfs -o mode=755 run /host/run
mount -t tmpfs -o mode=1777 vartmp /host/var/tmp
if [ -f /ctl/mounts ]; then                     # lines "TAG PATH": writable shares
    while read -r tag path; do
        [ -n "$tag" ] || continue
        mkdir -p "/host$path" 2>/dev/null
        mount -t 9p -o $O9P,cache=mmap "$tag" "/host$path" || fail "mounting $path failed"
    done </ctl/mounts
fi
ip link set lo up                               # loopback only; no other network
mark "filesystems mounted"

if [ "$kvmbox_rescue" = 1 ]; then
    setsid cttyhack sh
    rc=$?
else
    mkdir -p /host/run/kvmbox
    cp /ctl/cmd.sh /host/run/kvmbox/cmd.sh || fail "no command script"
    env="PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root"
    cut -d' ' -f1 /proc/uptime >/ctl/started
    mark "command started"
    if [ "$kvmbox_tty" = 1 ]; then
        # setsid + cttyhack: the serial line becomes the command's
        # controlling terminal, so ^C and job control work inside.
        setsid cttyhack chroot /host /usr/bin/env -i $env /bin/sh /run/kvmbox/cmd.sh
    else
        chroot /host /usr/bin/env -i $env /bin/sh /run/kvmbox/cmd.sh <"$stdin"
    fi
    rc=$?
    mark "command exited with status $rc"
fi
echo $rc >/ctl/status
finish $rc
