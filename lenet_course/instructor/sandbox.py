"""The sandbox each graded notebook runs in: bubblewrap, limits, and nothing of the grader's in sight (for instructors).

Used by :mod:`lenet_course.instructor.grade` (README, "For instructors").
A learner's notebook is code the grader did not write: it runs sealed, the way
programming-contest judges run a contestant's program.

- **bubblewrap** (``bwrap``): a new root holding read-only views of the system
  (``/usr``, ``/etc``), of the Python environment and of the ``lenet_course``
  package (not the repository around it: the reference chapters stay out of
  sight), one private ``/tmp`` (a size-limited tmpfs) holding the graded
  notebook, and the judge's socket folder. Own PID namespace (nothing started
  inside outlives the run, and no process outside can be seen or signalled),
  no network, own IPC and host name, a new session, killed with the grader.
- **Its own user.** As root, the run drops to a user id that no account uses,
  one per concurrent job, with no capabilities and ``no_new_privs``; without
  root, an unprivileged user namespace (the instructor's own user id).
- **Limits.** Per process: private writable memory (``RLIMIT_DATA``, which a
  PyTorch import's large read-only mappings do not count against); processes
  and threads of the sandbox's user (``RLIMIT_NPROC``); no core files. The
  private ``/tmp`` has a size. The wall clock is the grader's: at the limit it
  kills the sandbox, and with it every process inside.

:func:`probe` says which of these this machine allows, before any notebook
runs; where bwrap is missing or cannot start, grading stops with one line
unless the instructor passes ``--no-sandbox`` (:data:`UNPROTECTED` lists what
is then not protected).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Limits",
    "Isolation",
    "SandboxUnavailable",
    "SandboxRun",
    "Sandbox",
    "UidPool",
    "probe",
    "python_paths",
    "UNPROTECTED",
    "WORKDIR",
    "SUPPORT",
    "JUDGE_DIR",
]

WORKDIR = "/tmp/grade"  # inside: the graded notebook and its support files, the kernel's working folder
SUPPORT = "/run/grader"  # inside, read-only: the grader's own files (pytest plugin, sanitize rules)
JUDGE_DIR = "/run/judge"  # inside, read-only: the folder of the judge's socket
_SYSTEM = ("/usr", "/etc")  # read-only; /bin, /lib... are links into /usr on current distributions
_USR_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_OUTPUT_CAP = 64 * 1024  # bytes kept of the run's stdout and stderr (the end)
_CHANNEL_CAP = 8 * 1024 * 1024  # bytes kept of what the grader's plugin sends back

UNPROTECTED = (
    "the notebook runs as you, with your files, network and processes in reach",
    "it can read the reference chapters, other submissions and the grader's files, and change them",
    "it can stop the grader, or leave processes running after it",
    "memory is limited per process only where prlimit exists; there is no process limit",
)


class SandboxUnavailable(RuntimeError):
    """bwrap is missing or cannot start here; the message is one line saying what to do."""


@dataclass(frozen=True)
class Limits:
    """What one graded notebook may use: memory and processes per sandbox user, disk, wall-clock time."""

    memory: int = 4 * 2**30  # bytes of private writable memory, per process (RLIMIT_DATA)
    processes: int = 512  # processes and threads of the sandbox's user (RLIMIT_NPROC)
    disk: int = 2**30  # bytes of the private /tmp, the notebook included
    seconds: float = 900.0  # wall clock for the whole run

    def describe(self) -> str:
        """The limits in one line, for the run's header."""
        return (
            f"memory {self.memory / 2**30:g} GiB per process, {self.processes} processes, "
            f"{self.disk / 2**30:g} GiB of /tmp, {self.seconds:g} s"
        )


@dataclass(frozen=True)
class Isolation:
    """How notebooks are sealed on this machine: ``root`` (own user id), ``userns``, or ``none`` (--no-sandbox)."""

    kind: str
    bwrap: str | None = None
    protects: tuple[str, ...] = ()
    lacks: tuple[str, ...] = ()

    @property
    def sealed(self) -> bool:
        return self.kind != "none"

    def describe(self) -> str:
        """A line for the run's header: the kind of sandbox and what it does not protect."""
        if not self.sealed:
            return "no sandbox (--no-sandbox): NOT protected: " + "; ".join(self.lacks)
        text = {"root": "bubblewrap, one unused user id per job", "userns": "bubblewrap in a user namespace"}[self.kind]
        return text + ("; not protected: " + "; ".join(self.lacks) if self.lacks else "")


_PROTECTS = (
    "read-only system, Python environment and lenet_course package; nothing else of this machine",
    "a private /tmp holding only the graded notebook",
    "own PID namespace: no process outside is visible, none inside outlives the run",
    "no network",
)


def python_paths() -> list[Path]:
    """The folders the grader's Python needs inside the sandbox: the environment and the package, nothing around them.

    ``sys.prefix`` (the virtual environment), ``sys.base_prefix`` (the Python
    it was made from: its standard library, and the interpreter a venv's
    ``python`` links to), and ``lenet_course/`` itself: with an editable install
    the repository holds the reference chapters beside it, which must stay out
    of sight.
    """
    import lenet_course

    wanted = [Path(sys.prefix), Path(sys.base_prefix), Path(lenet_course.__file__).resolve().parent]
    executable = Path(sys.executable)
    if executable.is_symlink():
        wanted.append(executable.resolve().parent.parent)
    found: list[Path] = []
    for path in wanted:
        path = path.resolve() if path.exists() else path
        system = any(path == Path(s) or Path(s) in path.parents for s in _SYSTEM)
        if path.is_dir() and not system and not any(path == p or p in path.parents for p in found):
            found = [p for p in found if path not in p.parents] + [path]
    return found


def _bwrap_base(kind: str) -> list[str]:
    base = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session"]
    if kind == "userns":
        base[:0] = ["--unshare-user", "--disable-userns"]
    return base


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no message"


def probe(no_sandbox: bool = False, bwrap: str | None = None) -> Isolation:
    """How this machine can seal a notebook; raises :class:`SandboxUnavailable` (one line) when it cannot.

    As root: bwrap plus a switch to an unused user id (``setpriv``). Otherwise:
    bwrap in an unprivileged user namespace. ``no_sandbox`` skips all of it.
    """
    if no_sandbox:
        lacks = UNPROTECTED
        if shutil.which("prlimit"):
            lacks = (*UNPROTECTED[:3], "memory is limited per process (prlimit); there is no process limit")
        return Isolation("none", lacks=lacks)
    if sys.platform != "linux":
        raise SandboxUnavailable(
            f"grading seals each notebook with bubblewrap, which needs Linux (this is {sys.platform}); "
            "grade on Linux, or pass --no-sandbox to grade unprotected"
        )
    bwrap = bwrap or shutil.which("bwrap")
    if not bwrap:
        raise SandboxUnavailable(
            "grading seals each notebook with bubblewrap, and bwrap is not installed: "
            "install it (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap), "
            "or pass --no-sandbox to grade unprotected"
        )
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    kinds = ["root", "userns"] if root else ["userns"]
    problem = ""
    for kind in kinds:
        if kind == "root" and not (shutil.which("setpriv") and shutil.which("prlimit")):
            problem = "setpriv and prlimit (util-linux) are missing"
            continue
        command = [bwrap, *_bwrap_base(kind), *_system_binds(), "--proc", "/proc", "--dev", "/dev", "--"]
        if kind == "root":
            command += [*_drop_to(_unused_uids(1)[0]), "true"]
        else:
            command += ["true"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            problem = str(exc)
            continue
        if done.returncode == 0:
            lacks: tuple[str, ...] = ()
            if kind == "userns":
                lacks = (
                    "the process limit counts all of your user's processes (not root: no user id of its own)",
                    "memory is limited per process, not for the sandbox as a whole",
                )
            else:
                lacks = ("memory is limited per process, not for the sandbox as a whole",)
            return Isolation(kind, bwrap, _PROTECTS, lacks)
        problem = _first_line(done.stderr)
    hint = (
        "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) or grade as root"
        if not root
        else "grade outside this container, or in one started with --privileged"
    )
    raise SandboxUnavailable(
        f"bwrap cannot start a sandbox here ({problem}); {hint}, or pass --no-sandbox to grade unprotected"
    )


def _system_binds() -> list[str]:
    args: list[str] = []
    for path in _SYSTEM:
        if os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in _USR_LINKS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def _drop_to(uid: int) -> list[str]:
    return [
        "setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]


def _uids_in_use() -> set[int]:
    used: set[int] = set()
    try:
        with open("/etc/passwd", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                parts = line.split(":")
                if len(parts) > 2 and parts[2].isdigit():
                    used.add(int(parts[2]))
    except OSError:
        pass
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if entry.name.isdigit():
            try:
                used.add(entry.stat().st_uid)
            except OSError:
                continue
    return used


def _unused_uids(count: int) -> list[int]:
    """``count`` user ids that no account and no running process uses, drawn at random from a high range."""
    used = _uids_in_use()
    chosen: list[int] = []
    rng = random.SystemRandom()
    while len(chosen) < count:
        uid = rng.randrange(1_000_000_000, 2_000_000_000)
        if uid not in used and uid not in chosen:
            chosen.append(uid)
    return chosen


class UidPool:
    """One unused user id per concurrent job (root only): a job's processes are counted and limited alone."""

    def __init__(self, size: int) -> None:
        self._free = _unused_uids(max(1, size))
        self._lock = threading.Condition()

    def take(self) -> int:
        with self._lock:
            while not self._free:
                self._lock.wait()
            return self._free.pop()

    def give(self, uid: int) -> None:
        with self._lock:
            self._free.append(uid)
            self._lock.notify()


def _user_process_count() -> int:
    uid = os.getuid()
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(list((entry / "task").iterdir()))
            except OSError:
                continue
    return count


@dataclass
class SandboxRun:
    """How a sealed run ended: exit code (None when killed at the time limit), what it printed, what it sent back."""

    returncode: int | None
    timed_out: bool
    seconds: float
    output: str  # the end of stdout and stderr together
    channel: bytes  # what the grader's pytest plugin wrote to its channel
    kind: str = "root"
    command: list[str] = field(default_factory=list, repr=False)


class _Drain(threading.Thread):
    """Reads a pipe to its end, keeping the first (``head``) or last bytes up to ``cap``."""

    def __init__(self, fd: int, cap: int, head: bool) -> None:
        super().__init__(daemon=True)
        self.fd, self.cap, self.head = fd, cap, head
        self.data = bytearray()

    def run(self) -> None:
        try:
            while True:
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    break
                if self.head:
                    room = self.cap - len(self.data)
                    if room > 0:
                        self.data += chunk[:room]
                else:
                    self.data += chunk
                    if len(self.data) > 2 * self.cap:
                        del self.data[: len(self.data) - self.cap]
        except OSError:
            pass
        finally:
            os.close(self.fd)
        if not self.head and len(self.data) > self.cap:
            del self.data[: len(self.data) - self.cap]


class Sandbox:
    """Runs one command sealed (or, with ``Isolation("none")``, in a private folder only).

    ``files`` go into the working folder (:data:`WORKDIR` inside), ``support``
    files into the read-only :data:`SUPPORT`; ``judge_dir`` (a folder of the
    grader's holding the judge's socket) is seen read-only at :data:`JUDGE_DIR`.
    :attr:`workdir`, :attr:`support` and :attr:`judge` are the paths the command
    sees; ``env`` is the whole environment it gets (nothing of the grader's own).
    The channel: a pipe whose file descriptor number is in ``channel_env``.
    """

    def __init__(
        self,
        isolation: Isolation,
        limits: Limits,
        uid: int | None = None,
        binds: Sequence[Path] | None = None,
    ) -> None:
        self.isolation, self.limits, self.uid = isolation, limits, uid
        self.binds = python_paths() if binds is None else list(binds)
        self._host: Path | None = None
        if isolation.sealed:
            self.workdir, self.support, self.judge = WORKDIR, SUPPORT, JUDGE_DIR
        else:
            import tempfile

            self._host = Path(tempfile.mkdtemp(prefix="lenet-grade-"))
            self.workdir, self.support = str(self._host / "grade"), str(self._host / "grader")
            self.judge = ""

    def close(self) -> None:
        if self._host is not None:
            shutil.rmtree(self._host, ignore_errors=True)
            self._host = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ building the command

    def _mount_dirs(self, destinations: Iterable[str], made: set[str]) -> list[str]:
        """``--dir`` for each missing parent folder, readable by the sandbox's user (bwrap makes them 0700)."""
        args: list[str] = []
        for destination in destinations:
            parents = list(Path(destination).parents)[::-1][1:]  # "/" excluded
            for parent in parents:
                text = str(parent)
                if text in made:
                    continue
                made.add(text)
                args += ["--perms", "0755", "--dir", text]
        return args

    def _bwrap_command(
        self,
        command: Sequence[str],
        file_fds: Mapping[str, int],
        support_fds: Mapping[str, int],
        judge_dir: Path | None,
        data_dirs: Sequence[Path],
    ) -> list[str]:
        kind = self.isolation.kind
        args = [self.isolation.bwrap or "bwrap", *_bwrap_base(kind), *_system_binds()]
        made = {"/", *_SYSTEM, *_USR_LINKS}
        # The private /tmp first: an environment or data folder that lives under the
        # host's /tmp (a clone made there, say) is then bound on top of it, not hidden by it.
        args += ["--proc", "/proc", "--dev", "/dev"]
        args += ["--perms", "1777", "--size", str(self.limits.disk), "--tmpfs", "/tmp"]
        args += ["--perms", "1777", "--dir", WORKDIR]
        made |= {"/tmp", WORKDIR}
        ro = [str(p) for p in [*self.binds, *data_dirs]]
        for path in ro:
            if path in ("/tmp", WORKDIR) or Path(WORKDIR).is_relative_to(path) or Path(path).is_relative_to(WORKDIR):
                raise SandboxUnavailable(f"{path} cannot be shown inside the sandbox, which keeps {WORKDIR} for itself")
            args += self._mount_dirs([path], made)
            args += ["--ro-bind", path, path]
            made.add(path)
        for name, fd in file_fds.items():
            target = f"{WORKDIR}/{name}"
            args += self._mount_dirs([target], made)
            args += ["--perms", "0644", "--file", str(fd), target]
        args += ["--perms", "0755", "--dir", "/run"]
        made.add("/run")
        for name, fd in support_fds.items():
            target = f"{SUPPORT}/{name}"
            args += self._mount_dirs([target], made)
            args += ["--perms", "0444", "--ro-bind-data", str(fd), target]
        if judge_dir is not None:
            args += ["--ro-bind", str(judge_dir), JUDGE_DIR]
        args += ["--chdir", WORKDIR, "--"]
        if kind == "root":
            assert self.uid is not None, "a root sandbox needs a user id from UidPool"
            args += _drop_to(self.uid)
            processes = self.limits.processes
        else:
            processes = _user_process_count() + self.limits.processes
        args += [
            "prlimit",
            f"--data={self.limits.memory}",
            f"--nproc={processes}",
            "--core=0",
            "--",
            *command,
        ]
        return args

    def _plain_command(self, command: Sequence[str], files: Mapping[str, bytes], support: Mapping[str, bytes]) -> list:
        for folder, items in ((self.workdir, files), (self.support, support)):
            for name, data in items.items():
                target = Path(folder) / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        if shutil.which("prlimit"):
            return ["prlimit", f"--data={self.limits.memory}", "--core=0", "--", *command]
        return list(command)

    # ------------------------------------------------------------ running it

    def run(
        self,
        command: Sequence[str],
        files: Mapping[str, bytes],
        env: Mapping[str, str],
        support: Mapping[str, bytes] | None = None,
        judge_dir: Path | None = None,
        channel_env: str = "",
        data_dirs: Sequence[Path] = (),
    ) -> SandboxRun:
        """Run ``command`` sealed until it ends or :attr:`Limits.seconds` pass; never raises for what it does."""
        support = dict(support or {})
        fds: list[int] = []
        read_channel, write_channel = os.pipe()
        env = dict(env)
        if channel_env:
            env[channel_env] = str(write_channel)
        try:
            if self.isolation.sealed:

                def memfd(name: str, data: bytes) -> int:
                    fd = os.memfd_create(name, 0)
                    _write_all(fd, data)
                    os.lseek(fd, 0, os.SEEK_SET)
                    fds.append(fd)
                    return fd

                file_fds = {name: memfd(name, data) for name, data in files.items()}
                support_fds = {name: memfd(name, data) for name, data in support.items()}
                argv = self._bwrap_command(command, file_fds, support_fds, judge_dir, data_dirs)
                cwd = "/"
            else:
                argv = self._plain_command(command, files, support)
                cwd = self.workdir
            return self._watch(argv, env, cwd, [*fds, write_channel], read_channel)
        finally:
            for fd in fds:
                os.close(fd)

    def _watch(
        self, argv: list[str], env: Mapping[str, str], cwd: str, pass_fds: list[int], channel: int
    ) -> SandboxRun:
        start = time.monotonic()
        read_out, write_out = os.pipe()
        try:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=write_out,
                stderr=write_out,
                pass_fds=pass_fds,
                start_new_session=True,
            )
        except OSError as exc:
            for fd in (read_out, write_out, channel, pass_fds[-1]):
                os.close(fd)
            return SandboxRun(127, False, 0.0, f"cannot start the sandbox: {exc}", b"", self.isolation.kind, argv)
        os.close(write_out)
        os.close(pass_fds[-1])  # the channel's write end now lives only in the sandbox
        output, records = _Drain(read_out, _OUTPUT_CAP, head=False), _Drain(channel, _CHANNEL_CAP, head=True)
        output.start()
        records.start()
        timed_out = False
        try:
            returncode: int | None = process.wait(timeout=self.limits.seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
            returncode = None
            _kill_group(process)
        except BaseException:
            _kill_group(process)
            raise
        if not self.isolation.sealed:
            _kill_group(process)  # what the notebook left running in its session
        # the drains end when every writer is gone: in a sandbox, when its PID namespace is
        for drain in (output, records):
            drain.join(timeout=10)
        text = bytes(output.data).decode("utf-8", "replace")
        return SandboxRun(
            returncode, timed_out, time.monotonic() - start, text, bytes(records.data), self.isolation.kind, argv
        )


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
