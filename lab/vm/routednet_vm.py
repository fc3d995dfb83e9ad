# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one command inside a throwaway VM on Debian's stock kernel.

For what this machine's own kernel cannot do (it has no ipip module): qemu in
software emulation boots /boot/vmlinuz-* of Debian's linux-image-amd64 with a
tiny busybox initramfs built here on each run. The guest sees the host's whole
filesystem read-only over 9p under a throwaway writable layer (so the project,
its .venv and every tool are the host's own).

`run` gives the guest no network card at all, runs the command in the current
directory, streams its output to the console and powers off. This script prints
that output and exits with the command's status; on a timeout it kills the VM.

`start` instead leaves the VM running in the background with an sshd that only
the host reaches, over qemu's user-mode network forwarded from one port on the
host's loopback (restrict=on: nothing in the guest reaches out). `exec` runs a
command in it, `stop` powers it off. `lab-up` starts a VM, builds a lab of
routednet_lab.py inside it and writes an inventory for the host: Ansible runs on
the host at full speed and only the nodes' side runs in the emulated guest.
Nothing is left running or on disk after `run`, `stop`, `lab-down` or `stop-all`.

    routednet_vm.py run [--timeout S] [--log FILE] -- COMMAND [ARG...]
    routednet_vm.py start --name NAME [--timeout S]
    routednet_vm.py exec --name NAME -- COMMAND [ARG...]
    routednet_vm.py stop --name NAME
    routednet_vm.py lab-up --name NAME --topology FILE --inventory FILE
    routednet_vm.py lab-down --name NAME
    routednet_vm.py check
    routednet_vm.py stop-all     # kill every VM of this tool left by a killed run
"""

import argparse
import glob
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import routednet_lab  # noqa: E402  (lab/routednet_lab.py: the guest's sshd is configured as the lab's)

JOBS_ROOT = "/run/routednet-vm"
QEMU = "qemu-system-x86_64"
BUSYBOX = "/bin/busybox"
# What stage 1 loads to reach the host's filesystem (plus the kernel's entropy source).
STAGE1_MODULES = ["virtio_pci", "9pnet_virtio", "9p", "overlay", "virtio_rng"]
RESULT = re.compile(r"^routednet-vm: exit (\d+)$")
# qemu's user-mode network gives the guest this address (the host forwards to it)
GUEST_ADDRESS = "10.0.2.15"
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


def qemu_command(args, image, initramfs, job, ssh_port=None):
    # no network card at all, or (a started VM) one on qemu's user-mode network whose only
    # way in is the forwarded port on the host's loopback and which reaches nothing outside
    nic = ["-nic", "none"]
    if ssh_port:
        nic = [
            "-netdev", "user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:%d-%s:22" % (ssh_port, GUEST_ADDRESS),
            "-device", "virtio-net-pci,netdev=net0",
        ]  # fmt: skip
    return [
        QEMU,
        "-cpu", "max",
        "-smp", str(args.cpus),
        "-m", str(args.memory),
        "-display", "none",
        "-monitor", "none",
        "-serial", "stdio",
        "-no-reboot",
        *nic,
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


def require_tools():
    problems = missing()
    if problems:
        raise VMError("cannot start the VM: %s; install %s (scripts/setup.sh --tests does)" % ("; ".join(problems), PACKAGES))


def new_job():
    """A fresh job directory: what the guest gets of the host besides its read-only view."""
    os.makedirs(JOBS_ROOT, exist_ok=True)
    return tempfile.mkdtemp(prefix="job-", dir=JOBS_ROOT)


def kernel_and_initramfs(job):
    """The newest installed kernel, and an initramfs for it built into the job directory."""
    release, image = kernels()[0]
    initramfs = os.path.join(job, "initramfs.cpio")
    build_initramfs(release, initramfs)
    return image, initramfs


def run(args):
    require_tools()
    if not args.command:
        raise VMError("no command given (routednet_vm.py run -- COMMAND ...)")
    if os.getcwd().split(os.sep)[1] in ("run", "proc", "sys", "dev"):
        raise VMError("the guest gets fresh /run, /proc, /sys and /dev; run from a directory elsewhere (now in %s)" % os.getcwd())
    job = new_job()
    try:
        with open(args.log or os.devnull, "w") as log:
            return boot(args, job, log)
    finally:
        shutil.rmtree(job, ignore_errors=True)


def boot(args, job, log):
    """Start the VM on the job, stream its console, return the command's exit status."""
    started = time.monotonic()
    image, initramfs = kernel_and_initramfs(job)
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


def qemu_argv(pid):
    """The command line of process ``pid`` when it is a qemu of ours' kind, else None."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = handle.read().split(b"\0")
    except OSError:
        return None
    return argv if os.path.basename(argv[0]) == QEMU.encode() else None


def stop_all(_args):
    """Kill the VMs of runs that were themselves killed, and remove their job directories."""
    stopped = 0
    for pid in os.listdir("/proc"):
        argv = qemu_argv(int(pid)) if pid.isdigit() else None
        if argv and any(a.startswith(JOBS_ROOT.encode() + b"/job-") for a in argv):
            os.kill(int(pid), signal.SIGKILL)
            stopped += 1
    if os.path.isdir(JOBS_ROOT):
        for name in os.listdir(JOBS_ROOT):
            path = os.path.join(JOBS_ROOT, name)
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)  # a started VM's state file
    if stopped:
        print("routednet-vm: killed %d VM(s) left running" % stopped)
    return 0


def state_path(name):
    return os.path.join(JOBS_ROOT, "%s.json" % name)


def load_state(name):
    try:
        with open(state_path(name)) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def alive(pid):
    return qemu_argv(pid) is not None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ssh_argv(state):
    """ssh into a started VM's guest (root), with the VM's own key and host key only."""
    job = state["job"]
    return [
        "ssh", "-F", "none", "-p", str(state["port"]), "-i", os.path.join(job, "id_ed25519"),
        "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
        "-o", "UserKnownHostsFile=%s" % os.path.join(job, "known_hosts"), "-o", "StrictHostKeyChecking=yes",
        "-o", "ServerAliveInterval=15", "root@127.0.0.1",
    ]  # fmt: skip


def guest_command(argv):
    """The remote command line: the guest's shell runs argv here (the host's paths hold there too)."""
    return "cd %s && exec %s" % (shlex.quote(os.getcwd()), shlex.join(argv))


def start(args):
    start_vm(args)
    return 0


def start_vm(args):
    """Boot a VM in the background with an sshd only the host reaches; its state, once it answers."""
    require_tools()
    old = load_state(args.name)
    if old and alive(old["pid"]):
        raise VMError("a VM named %s is running (pid %d); stop it first: routednet_vm.py stop --name %s" % (args.name, old["pid"], args.name))
    job = new_job()
    started = time.monotonic()
    proc = None
    try:
        image, initramfs = kernel_and_initramfs(job)
        for key in ("host_ed25519", "id_ed25519"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "routednet-vm", "-f", os.path.join(job, key)], check=True)
        port = free_port()
        with open(os.path.join(job, "host_ed25519.pub")) as handle:
            host_key = handle.read().split()
        with open(os.path.join(job, "known_hosts"), "w") as handle:
            handle.write("[127.0.0.1]:%d %s %s\n" % (port, host_key[0], host_key[1]))
        with open(os.path.join(job, "sshd_config"), "w") as handle:
            purpose = "sshd of a VM started by routednet_vm.py: only the host reaches it (qemu user-mode network, one port forwarded from its loopback)."
            handle.write(routednet_lab.sshd_config(purpose, "/run/vmjob/host_ed25519", "/run/vmjob/id_ed25519.pub", listen=GUEST_ADDRESS))
        shutil.copy(os.path.join(HERE, "guest-serve.sh"), os.path.join(job, "serve.sh"))
        write_job(job, ["sh", "/run/vmjob/serve.sh", str(args.timeout)], {"ROUTEDNET_IN_VM": "1"})
        command = qemu_command(args, image, initramfs, job, ssh_port=port)
        with open(os.path.join(job, "console.log"), "w") as console:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT, start_new_session=True)
        state = {"name": args.name, "pid": proc.pid, "port": port, "job": job}
        with open(state_path(args.name), "w") as handle:
            json.dump(state, handle)
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                raise VMError("the VM stopped while starting (qemu exit %s); its console:\n%s" % (proc.returncode, console_tail(job)))
            if os.path.exists(os.path.join(job, "ready")):
                probe = subprocess.run(ssh_argv(state) + ["true"], capture_output=True, text=True, timeout=120, check=False)
                if probe.returncode == 0:
                    break
            if time.monotonic() > deadline:
                raise VMError("the VM's sshd did not answer within 300 s; its console:\n%s" % console_tail(job))
            time.sleep(1)
    except BaseException:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(job, ignore_errors=True)
        if os.path.exists(state_path(args.name)):
            os.unlink(state_path(args.name))
        raise
    print("routednet-vm: %s up after %.0f s (software emulation); ssh on 127.0.0.1:%d" % (args.name, time.monotonic() - started, port), flush=True)
    return state


def console_tail(job, lines=40):
    try:
        with open(os.path.join(job, "console.log"), errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return "(no console log)"


def running(name):
    state = load_state(name)
    if not state or not alive(state["pid"]):
        raise VMError("no VM named %s is running (start one: routednet_vm.py start --name %s)" % (name, name))
    return state


def exec_(args):
    if not args.command:
        raise VMError("no command given (routednet_vm.py exec --name NAME -- COMMAND ...)")
    state = running(args.name)
    return subprocess.run(ssh_argv(state) + [guest_command(args.command)], check=False).returncode


def stop(args):
    """Power the VM off (the guest syncs and stops itself), kill it if it does not, clean up."""
    state = load_state(args.name)
    if not state:
        return 0
    if alive(state["pid"]):
        open(os.path.join(state["job"], "stop"), "w").close()
        deadline = time.monotonic() + 60
        while alive(state["pid"]) and time.monotonic() < deadline:
            time.sleep(0.5)
        if alive(state["pid"]):
            os.killpg(state["pid"], signal.SIGKILL)
    shutil.rmtree(state["job"], ignore_errors=True)
    os.unlink(state_path(args.name))
    return 0


def host_inventory(inner, state, lab):
    """The guest lab's inventory, for Ansible on the host: SSH reaches each node through the
    VM's sshd (the node's own ProxyCommand runs in the guest), and the lab's key, known
    hosts and SSH control sockets are copies under the VM's job directory."""
    guest_dir = os.path.join(routednet_lab.LAB_ROOT, lab) + "/"
    host_dir = os.path.join(state["job"], "lab") + "/"
    outer = shlex.join(ssh_argv(state))
    for group in inner["all"]["children"].values():
        for host in group.get("hosts", {}).values():
            words = shlex.split(host["ansible_ssh_extra_args"])
            proxy = words[words.index("-o") + 1]
            assert proxy.startswith("ProxyCommand="), host
            through_vm = "%s %s" % (outer, proxy[len("ProxyCommand=") :])  # the guest's shell splits it
            host["ansible_ssh_extra_args"] = "-o ProxyCommand=%s" % shlex.quote(through_vm)
        settings = group.get("vars", {})
        for key in ("ansible_ssh_common_args", "ansible_ssh_private_key_file"):
            if key in settings:
                settings[key] = settings[key].replace(guest_dir, host_dir)
        # two SSH handshakes under software emulation take longer than Ansible's default 10 s
        settings["ansible_timeout"] = 120
    return inner


def lab_tool(*argv):
    return shlex.join([sys.executable, routednet_lab.__file__, *argv])


def lab_up(args):
    """A lab of routednet_lab.py inside a started VM, and its inventory for the host."""
    state = start_vm(args)
    try:
        write_lab_inventory(args, state)
    except BaseException:
        stop(args)
        raise
    print("routednet-vm: lab %s up in the VM; inventory %s" % (args.name, args.inventory), flush=True)
    return 0


def write_lab_inventory(args, state):
    job_lab = os.path.join(state["job"], "lab")
    os.makedirs(os.path.join(job_lab, "cp"))
    guest_lab = os.path.join(routednet_lab.LAB_ROOT, args.name)
    steps = [
        lab_tool("up", "--name", args.name, "--topology", os.path.abspath(args.topology), "--inventory", "/run/vmjob/lab/inner.yml"),
        "mkdir -p /run/vmjob/lab/ssh",
        "cp %s/ssh/id_ed25519 %s/ssh/known_hosts /run/vmjob/lab/ssh/" % (guest_lab, guest_lab),
    ]
    built = subprocess.run(ssh_argv(state) + [" && ".join(steps)], capture_output=True, text=True, check=False)
    if built.returncode != 0:
        raise VMError("the lab did not come up in the VM: %s" % (built.stdout + built.stderr).strip())
    os.chmod(os.path.join(job_lab, "ssh", "id_ed25519"), 0o600)
    with open(os.path.join(job_lab, "inner.yml")) as handle:
        inner = yaml.safe_load(handle)
    os.makedirs(os.path.dirname(os.path.abspath(args.inventory)), exist_ok=True)
    with open(args.inventory, "w") as handle:
        handle.write("# Written by routednet_vm.py lab-up: the lab %s inside the VM of that name.\n---\n" % args.name)
        yaml.safe_dump(host_inventory(inner, state, args.name), handle, default_flow_style=False, sort_keys=True)


def lab_down(args):
    """Take the lab down inside the VM (best effort: the VM goes anyway), then stop the VM."""
    state = load_state(args.name)
    if state and alive(state["pid"]):
        subprocess.run(ssh_argv(state) + [lab_tool("down", "--name", args.name)], capture_output=True, text=True, timeout=300, check=False)
    return stop(args)


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
    for action, text in (
        ("start", "start a VM in the background, reachable over SSH from this host only"),
        ("lab-up", "start a VM and build a lab inside it, with an inventory for this host"),
    ):
        started = sub.add_parser(action, help=text)
        started.add_argument("--name", required=True)
        started.add_argument("--timeout", type=int, default=3600, help="seconds before the VM powers itself off (default 3600)")
        started.add_argument("--cpus", type=int, default=2)
        started.add_argument("--memory", type=int, default=2048, help="MiB (default 2048)")
        if action == "lab-up":
            started.add_argument("--topology", required=True)
            started.add_argument("--inventory", required=True)
    exec_parser = sub.add_parser("exec", help="run COMMAND in a started VM, in the current directory")
    exec_parser.add_argument("--name", required=True)
    exec_parser.add_argument("command", nargs=argparse.REMAINDER)
    for action, text in (("stop", "power a started VM off"), ("lab-down", "remove the lab in a started VM, then power it off")):
        sub.add_parser(action, help=text).add_argument("--name", required=True)
    sub.add_parser("check", help="say whether the VM can start here")
    sub.add_parser("stop-all", help="kill VMs left by killed runs and remove their job directories")
    args = parser.parse_args()
    if getattr(args, "command", None) and args.command[0] == "--":
        args.command = args.command[1:]
    try:
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGHUP, on_signal)
        actions = {"run": run, "start": start, "exec": exec_, "stop": stop, "lab-up": lab_up, "lab-down": lab_down, "check": check, "stop-all": stop_all}
        return actions[args.action](args)
    except VMError as exc:
        print("routednet-vm: %s" % exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
