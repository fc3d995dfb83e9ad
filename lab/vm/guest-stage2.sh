#!/bin/sh
# Stage 2 of the routednet test VM: runs in the host's filesystem (read-only under a
# throwaway writable layer) on the VM's own kernel. Runs the job the host wrote into
# /run/vmjob, streams its output to the console, records its exit status and powers off.
job=/run/vmjob
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# a fresh home: nothing of the host's Ansible, molecule or SSH state leaks in
export HOME=/run/vmhome LANG=C.UTF-8 TERM=dumb

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /run/sshd /run/netns "$HOME"
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
ln -sf /proc/self/fd /dev/fd
hostname routednet-vm
# root's shell setup is the guest's own (in the throwaway layer): bash reads ~/.bashrc for
# every command sshd runs, and the host's (pyenv init) costs about 7 s under emulation
[ ! -f /root/.bashrc ] || : > /root/.bashrc
ip link set lo up

echo "routednet-vm: kernel $(uname -r), job started"
(
    cd "$(cat "$job/cwd")" || exit 125
    # shellcheck disable=SC1091
    . "$job/environment"
    exec /bin/sh "$job/command"
) > /dev/console 2>&1 < /dev/null
rc=$?
echo "$rc" > "$job/rc"
echo "routednet-vm: exit $rc"
sync
echo o > /proc/sysrq-trigger
# wait for the power-off with a shell builtin: the host's binaries may be gone already,
# and PID 1 must not exit (that is a kernel panic)
while true; do :; done
