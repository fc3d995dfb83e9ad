#!/bin/sh
# /init of the routednet test VM's initramfs (stage 1). Loads the virtio, 9p and
# overlay modules, mounts the host's filesystem (shared read-only over 9p) under a
# throwaway writable layer, and hands over to stage 2, which the host put in the
# writable "job" share.
# /bin/sh is busybox; give every other applet its name too
/bin/busybox --install -s /bin
export PATH=/bin

fail() {
    echo "routednet-vm: stage 1: $*"
    echo "routednet-vm: exit 125"
    echo o > /proc/sysrq-trigger
    sleep 5
}

mkdir -p /proc /sys /dev /lower /upper /newroot
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r module; do
    insmod "/modules/$module" || fail "insmod $module"
done < /modules.order

nine="trans=virtio,version=9p2000.L,msize=262144"
mount -t 9p -o "$nine,cache=loose,ro" hostroot /lower || fail "mount the host's filesystem"
mount -t tmpfs -o mode=0755 tmpfs /upper || fail "tmpfs for the writable layer"
mkdir -p /upper/data /upper/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work /newroot \
    || fail "overlay over the host's filesystem"
# A fresh, empty /run: nothing of the host's runtime state (its network namespaces,
# labs, sockets) leaks in. /tmp stays the host's, under the writable layer: the job may
# well run from a checkout there.
mount -t tmpfs -o mode=0755 tmpfs /newroot/run || fail "tmpfs on /run"
mkdir -p /newroot/run/vmjob
mount -t 9p -o "$nine" job /newroot/run/vmjob || fail "mount the job share"
umount /proc /sys /dev
exec switch_root /newroot /bin/sh /run/vmjob/stage2.sh
