#!/bin/sh
# The job of a VM started with `routednet_vm.py start`: an sshd in the guest, reached
# from the host only through qemu's user-mode network (host 127.0.0.1:PORT -> guest
# port 22; qemu's restrict=on lets nothing in the guest reach out). Runs until the host
# asks it to stop (the file "stop" in the job share) or the deadline passes, whichever
# comes first, so a VM whose host side was killed powers itself off.
# Usage (inside the guest): sh /run/vmjob/serve.sh SECONDS
job=/run/vmjob
lifetime=${1:-3600}

modprobe virtio_net || exit 125
ip link set eth0 up || exit 125
ip addr add 10.0.2.15/24 dev eth0 || exit 125
/usr/sbin/sshd -f "$job/sshd_config" -E "$job/sshd.log" || exit 125
echo "routednet-vm: sshd up, serving for at most $lifetime s"
touch "$job/ready"

waited=0
while [ ! -e "$job/stop" ] && [ "$waited" -lt "$lifetime" ]; do
    sleep 1
    waited=$((waited + 1))
done
[ -e "$job/stop" ] || echo "routednet-vm: no stop after $lifetime s, powering off"
exit 0
