"""The grader's sandbox: what a notebook can see, reach and use, tested with small commands (seconds each)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

import lenet_course
from lenet_course.cli import grade_main
from lenet_course.instructor import sandbox as sb
from lenet_course.instructor.sandbox import Isolation, Limits, Sandbox, SandboxUnavailable, UidPool, probe

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(lenet_course.__file__).resolve().parent
ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"}
MINUTE = Limits(seconds=60)


@pytest.fixture(scope="module")
def isolation():
    try:
        return probe()
    except SandboxUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no sandbox here: {exc}")


@pytest.fixture(scope="module")
def uids(isolation):
    return UidPool(2) if isolation.kind == "root" else None


def _python(isolation, uids, code: str, limits: Limits = MINUTE, **kwargs):
    """Run ``code`` with the course's Python in a sandbox; the run (output, channel, exit code)."""
    uid = uids.take() if uids else None
    try:
        with Sandbox(isolation, limits, uid) as box:
            env = {**ENV, **kwargs.pop("env", {})}
            return box.run([sys.executable, "-c", textwrap.dedent(code)], kwargs.pop("files", {}), env, **kwargs)
    finally:
        if uids and uid is not None:
            uids.give(uid)


def test_the_notebook_sees_its_files_the_package_and_nothing_of_the_course_around_it(isolation, uids, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the grader's")
    run = _python(
        isolation,
        uids,
        f"""
        import os, pathlib
        import lenet_course
        print("files", sorted(os.listdir(".")), open("sub/b.txt").read())
        print("package", pathlib.Path(lenet_course.__file__).resolve().parent == pathlib.Path({str(PACKAGE)!r}))
        print("beside", sorted(os.listdir({str(PACKAGE.parent)!r})))
        for path in [{str(ROOT / "chapters")!r}, {str(secret)!r}, {str(tmp_path)!r}]:
            print("hidden", path, not os.path.exists(path))
        print("processes", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
        """,
        files={"a.ipynb": b"{}", "sub/b.txt": b"support"},
    )
    lines = run.output.splitlines()
    assert run.returncode == 0, run.output
    assert "files ['a.ipynb', 'sub'] support" in lines
    assert "package True" in lines
    beside = next(line for line in lines if line.startswith("beside"))
    assert "chapters" not in beside and "tests" not in beside  # only the package (and the environment)
    assert sum(line.startswith("hidden") and line.endswith("True") for line in lines) == 3
    pids = eval(next(line for line in lines if line.startswith("processes")).split(" ", 1)[1])
    assert max(pids) < 10  # its own PID namespace: only its own few processes


def test_folders_under_the_host_s_tmp_are_shown_on_top_of_the_private_tmp(isolation, uids):
    """A course cloned under /tmp (its environment, its data) is still seen; the rest of the host's /tmp is not."""
    host = Path(tempfile.mkdtemp(prefix="lenet-sandbox-test-", dir="/tmp"))
    try:
        data, beside = host / "data", host / "beside.txt"
        data.mkdir()
        (data / "digits.txt").write_text("0123456789")
        beside.write_text("the grader's")
        os.chmod(host, 0o755)
        os.chmod(data, 0o755)
        os.chmod(data / "digits.txt", 0o644)
        run = _python(
            isolation,
            uids,
            f"""
            import os
            print("data", open({str(data / "digits.txt")!r}).read())
            print("beside hidden", not os.path.exists({str(beside)!r}))
            print("workdir", sorted(os.listdir(".")))
            try:
                open({str(data / "new.txt")!r}, "w")
                print("data writable")
            except OSError:
                print("data read-only")
            """,
            files={"a.ipynb": b"{}"},
            data_dirs=[data],
        )
        lines = run.output.splitlines()
        assert run.returncode == 0, run.output
        assert lines == ["data 0123456789", "beside hidden True", "workdir ['a.ipynb']", "data read-only"]
    finally:
        shutil.rmtree(host)


def test_a_folder_that_would_cover_the_sandbox_s_own_is_refused(isolation):
    box = Sandbox(isolation, MINUTE, None, binds=[Path("/tmp")])
    with pytest.raises(SandboxUnavailable, match="keeps /tmp/grade for itself"):
        box._bwrap_command(["true"], {}, {}, None, [])


def test_nothing_outside_can_be_written_or_signalled_and_there_is_no_network(isolation, uids, tmp_path):
    target = tmp_path / "written.txt"
    run = _python(
        isolation,
        uids,
        f"""
        import os, signal, socket
        for path in [{str(target)!r}, {str(PACKAGE / "shapes.py")!r}, "/usr/pwned", "/etc/pwned"]:
            try:
                open(path, "a").write("x")
                print("wrote", path)
            except OSError as error:
                print("refused", type(error).__name__)
        try:
            os.kill({os.getpid()}, signal.SIGKILL)
            print("killed the grader")
        except OSError as error:
            print("kill refused", type(error).__name__)
        try:
            socket.create_connection(("1.1.1.1", 53), timeout=3)
            print("network")
        except OSError as error:
            print("no network", type(error).__name__)
        """,
    )
    assert run.returncode == 0, run.output
    assert "wrote" not in run.output and run.output.count("refused") >= 4
    assert "killed the grader" not in run.output and "no network" in run.output
    assert not target.exists()


def test_the_grader_s_channel_comes_back_and_the_support_folder_is_read_only(isolation, uids):
    run = _python(
        isolation,
        uids,
        """
        import os
        os.write(int(os.environ["CHANNEL"]), b"a record\\n")
        print(open("/run/grader/rules.cfg").read())
        try:
            open("/run/grader/rules.cfg", "a").write("catch all")
        except OSError as error:
            print("read-only", type(error).__name__)
        """,
        support={"rules.cfg": b"the rules"},
        channel_env="CHANNEL",
    )
    assert run.channel == b"a record\n"
    assert "the rules" in run.output and "read-only" in run.output


def test_memory_is_limited_per_process_while_pytorch_still_imports(isolation, uids):
    run = _python(
        isolation,
        uids,
        """
        import torch
        print("torch", torch.ones(2).sum().item())
        try:
            block = bytearray(6 * 2**30)
            print("allocated 6 GiB")
        except MemoryError:
            print("MemoryError")
        """,
        limits=Limits(memory=2 * 2**30, seconds=120),
    )
    assert "torch 2.0" in run.output and "MemoryError" in run.output, run.output


def test_processes_are_limited(isolation, uids):
    run = _python(
        isolation,
        uids,
        """
        import os, time
        children = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                children += 1
        except OSError as error:
            print("stopped at", children, type(error).__name__)
        """,
        limits=Limits(processes=40, seconds=60),
    )
    assert "stopped at" in run.output and "BlockingIOError" in run.output, run.output
    assert int(run.output.split("stopped at")[1].split()[0]) < 40


def test_the_time_limit_kills_every_process_inside_even_a_new_session(isolation, uids):
    start = time.monotonic()
    run = _python(
        isolation,
        uids,
        """
        import os, subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)  # lenet-sandbox-test-daemon"],
                         start_new_session=True)
        print("started", flush=True)
        while True:
            time.sleep(1)
        """,
        limits=Limits(seconds=8),
    )
    assert run.timed_out and run.returncode is None and "started" in run.output
    assert time.monotonic() - start < 60
    time.sleep(1)
    left = subprocess.run(["pgrep", "-f", "lenet-sandbox-test-daemon"], capture_output=True, text=True).stdout
    assert left.strip() == ""


def test_an_unprivileged_user_gets_a_user_namespace(tmp_path):
    """As root, the same sandbox run by an ordinary user (nobody): bwrap in a user namespace, still sealed."""
    if os.geteuid() != 0 or not shutil.which("bwrap") or not shutil.which("setpriv"):
        pytest.skip("needs root (to become an ordinary user) and bwrap")
    box = Sandbox(Isolation("userns", shutil.which("bwrap")), Limits(seconds=30), binds=[])
    argv = box._bwrap_command(
        ["/bin/sh", "-c", "id -u; ls /proc | grep -c '^[0-9]'; ls /root 2>&1 | head -1"], {}, {}, None, []
    )
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    if done.returncode != 0 and "namespace" in done.stderr.lower():
        pytest.skip(f"this kernel refuses unprivileged user namespaces: {done.stderr.strip()}")
    uid, processes, _ = done.stdout.splitlines()
    assert done.returncode == 0 and uid == "65534" and int(processes) < 5


def test_without_bwrap_grading_refuses_in_one_line_unless_told(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(sb.shutil, "which", lambda name: None)
    with pytest.raises(SandboxUnavailable, match="bwrap is not installed"):
        probe()
    assert probe(no_sandbox=True).kind == "none"
    (tmp_path / "subs").mkdir()
    code = grade_main([str(tmp_path / "subs"), "--reference", str(ROOT / "chapters"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "--no-sandbox" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_no_sandbox_says_what_is_not_protected():
    text = Isolation("none", lacks=sb.UNPROTECTED).describe()
    assert "NOT protected" in text and "runs as you" in text and "stop the grader" in text
