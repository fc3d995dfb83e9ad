# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one command inside a throwaway VM on Debian's stock kernel.

For what this machine's own kernel cannot do (it has no ipip module): qemu in
software emulation boots /boot/vmlinuz-* of Debian's linux-image-amd64 with a
tiny busybox initramfs built here on each run. The guest sees the host's whole
filesystem read-only over 9p under a throwaway writable layer (so the project,
its .venv and every tool are the host's own), has no network card at all, runs
the command in the current directory, streams its output to the console and
powers off. This script prints that output and exits with the command's status;
on a timeout it kills the VM. Nothing is left running or on disk afterwards.

    routednet_vm.py run [--timeout S] [--log FILE] -- COMMAND [ARG...]
    routednet_vm.py check
    routednet_vm.py stop-all     # kill every VM of this tool left by a killed run
"""

import argparse
import glob
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
JOBS_ROOT = "/run/routednet-vm"
QEMU = "qemu-system-x86_64"
BUSYBOX = "/bin/busybox"
# What stage 1 loads to reach the host's filesystem (plus the kernel's entropy source).
STAGE1_MODULES = ["virtio_pci", "9pnet_virtio", "9p", "overlay", "virtio_rng"]
RESULT = re.compile(r"^routednet-vm: exit (\d+)$")
PACKAGES = "qemu-system-x86 linux-image-amd64 busybox-static kmod (scripts/system-packages.txt)"


class VMError(Exception):
    pass


def kernels():
    """Installed kernels that have their modules, newest first."""
    found = []
    for image in glob.glob("/boot/vmlinuz-*"):
        release = image[len("/boot/vmlinuz-") :]
        if os.path.exists("/lib/modules/%s/modules.dep" % release):
            found.append((release, image))
    return sorted(found, key=lambda pair: [int(x) if x.isdigit() else x for x in re.split(r"[.-]", pair[0])], reverse=True)


def missing():
    problems = []
    if not shutil.which(QEMU):
        problems.append("%s is not installed" % QEMU)
    if not os.access(BUSYBOX, os.X_OK):
        problems.append("%s is not installed" % BUSYBOX)
    if not shutil.which("modprobe"):
        problems.append("modprobe (kmod) is not installed")
    if not kernels():
        problems.append("no /boot/vmlinuz-* with its /lib/modules/<release>/")
    return problems


def module_files(release):
    """The .ko files for STAGE1_MODULES, dependencies first, each once."""
    files = []
    for module in STAGE1_MODULES:
        out = subprocess.run(["modprobe", "-S", release, "--show-depends", module], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            words = line.split()
            if words and words[0] == "insmod" and words[1] not in files:
                files.append(words[1])
    return files


def cpio_entry(name, mode, data=b"", rdev=(0, 0)):
    """One entry of a 'newc' cpio archive, the format the kernel unpacks an initramfs from."""
    fields = [0, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
    head = b"070701" + b"".join(b"%08X" % value for value in fields) + name.encode() + b"\0"
    head += b"\0" * (-len(head) % 4)
    return head + data + b"\0" * (-len(data) % 4)


def build_initramfs(release, path):
    modules = module_files(release)
    with open(os.path.join(HERE, "initramfs-init.sh"), "rb") as handle:
        init = handle.read()
    with open(BUSYBOX, "rb") as handle:
        busybox = handle.read()
    parts = [cpio_entry(d, 0o040755) for d in ("bin", "dev", "modules")]
    # the kernel gives /init its stdio on /dev/console before anything is mounted
    parts.append(cpio_entry("dev/console", 0o020600, rdev=(5, 1)))
    parts.append(cpio_entry("bin/busybox", 0o100755, busybox))
    parts.append(cpio_entry("bin/sh", 0o120777, b"busybox"))  # the interpreter of /init
    parts.append(cpio_entry("init", 0o100755, init))
    order = []
    for ko in modules:
        with open(ko, "rb") as handle:
            parts.append(cpio_entry("modules/" + os.path.basename(ko), 0o100644, handle.read()))
        order.append(os.path.basename(ko))
    parts.append(cpio_entry("modules.order", 0o100644, ("\n".join(order) + "\n").encode()))
    parts.append(cpio_entry("TRAILER!!!", 0))
    with open(path, "wb") as handle:
        handle.write(b"".join(parts))


def write_job(job, command, env):
    with open(os.path.join(job, "command"), "w") as handle:
        handle.write(shlex.join(command) + "\n")
    with open(os.path.join(job, "cwd"), "w") as handle:
        handle.write(os.getcwd() + "\n")
    with open(os.path.join(job, "environment"), "w") as handle:
        for key, value in sorted(env.items()):
            handle.write("export %s=%s\n" % (key, shlex.quote(value)))
    shutil.copy(os.path.join(HERE, "guest-stage2.sh"), os.path.join(job, "stage2.sh"))


def qemu_command(args, image, initramfs, job):
    return [
        QEMU,
        "-cpu", "max",
        "-smp", str(args.cpus),
        "-m", str(args.memory),
        "-display", "none",
        "-monitor", "none",
        "-serial", "stdio",
        "-no-reboot",
        "-nic", "none",  # no network card: nothing in the guest can reach any network
        "-device", "virtio-rng-pci",
        "-kernel", image,
        "-initrd", initramfs,
        "-append", "console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off",
        "-virtfs", "local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap",
        "-virtfs", "local,path=%s,mount_tag=job,security_model=passthrough" % job,
    ]  # fmt: skip


def stream(proc, deadline, log):
    """Copy the console to stdout (and the log) until the VM exits or the deadline passes."""
    status, pending = None, b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return status, False
        ready = select.select([proc.stdout], [], [], min(left, 1.0))[0]
        if not ready:
            if proc.poll() is not None:
                return status, True
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            proc.wait()
            return status, True
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "replace").rstrip("\r")
            match = RESULT.match(line)
            if match:
                status = int(match.group(1))
            print(line, flush=True)
            log.write(line + "\n")


def run(args):
    problems = missing()
    if problems:
        raise VMError("cannot start the VM: %s; install %s (scripts/setup.sh does)" % ("; ".join(problems), PACKAGES))
    if not args.command:
        raise VMError("no command given (routednet_vm.py run -- COMMAND ...)")
    if os.getcwd().split(os.sep)[1] in ("run", "proc", "sys", "dev"):
        raise VMError("the guest gets fresh /run, /proc, /sys and /dev; run from a directory elsewhere (now in %s)" % os.getcwd())
    os.makedirs(JOBS_ROOT, exist_ok=True)
    job = tempfile.mkdtemp(prefix="job-", dir=JOBS_ROOT)
    try:
        with open(args.log or os.devnull, "w") as log:
            return boot(args, job, log)
    finally:
        shutil.rmtree(job, ignore_errors=True)


def boot(args, job, log):
    """Start the VM on the job, stream its console, return the command's exit status."""
    started = time.monotonic()
    release, image = kernels()[0]
    initramfs = os.path.join(job, "initramfs.cpio")
    build_initramfs(release, initramfs)
    write_job(job, args.command, {"ROUTEDNET_IN_VM": "1"})
    print("routednet-vm: booting %s (software emulation, %d CPUs, %d MiB, no network card)" % (image, args.cpus, args.memory), flush=True)
    command = qemu_command(args, image, initramfs, job)
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        status, exited = stream(proc, started + args.timeout, log)
        if not exited:
            raise VMError("the VM did not finish within %d s; killed it" % args.timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    try:
        with open(os.path.join(job, "rc")) as handle:
            status = int(handle.read().strip())
    except (OSError, ValueError):
        pass
    if status is None:
        raise VMError("the VM stopped without a result (qemu exit %s); its console is above" % proc.returncode)
    print("routednet-vm: command exited %d after %.0f s in the VM" % (status, time.monotonic() - started), flush=True)
    return status


def stop_all(_args):
    """Kill the VMs of runs that were themselves killed, and remove their job directories."""
    stopped = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if os.path.basename(argv[0]) == QEMU.encode() and any(a.startswith(JOBS_ROOT.encode() + b"/job-") for a in argv):
            os.kill(int(pid), signal.SIGKILL)
            stopped += 1
    if os.path.isdir(JOBS_ROOT):
        for name in os.listdir(JOBS_ROOT):
            shutil.rmtree(os.path.join(JOBS_ROOT, name), ignore_errors=True)
    if stopped:
        print("routednet-vm: killed %d VM(s) left running" % stopped)
    return 0


def on_signal(signum, _frame):
    # turn SIGTERM/SIGHUP into an exception, so run() still kills the VM and cleans up
    raise KeyboardInterrupt("signal %d" % signum)


def check(_args):
    problems = missing()
    if problems:
        print("cannot start the VM: %s; install %s" % ("; ".join(problems), PACKAGES))
        return 1
    release, image = kernels()[0]
    print("ready: %s (%s), %s, modules: %s" % (image, release, shutil.which(QEMU), " ".join(os.path.basename(f) for f in module_files(release))))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    run_parser = sub.add_parser("run", help="run COMMAND in the VM, in the current directory")
    run_parser.add_argument("--timeout", type=int, default=3600, help="seconds before the VM is killed (default 3600)")
    run_parser.add_argument("--cpus", type=int, default=2)
    run_parser.add_argument("--memory", type=int, default=2048, help="MiB (default 2048)")
    run_parser.add_argument("--log", help="also write the console to this file")
    run_parser.add_argument("command", nargs=argparse.REMAINDER)
    sub.add_parser("check", help="say whether the VM can start here")
    sub.add_parser("stop-all", help="kill VMs left by killed runs and remove their job directories")
    args = parser.parse_args()
    if getattr(args, "command", None) and args.command[0] == "--":
        args.command = args.command[1:]
    try:
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGHUP, on_signal)
        return {"run": run, "check": check, "stop-all": stop_all}[args.action](args)
    except VMError as exc:
        print("routednet-vm: %s" % exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
