"""The sandbox function itself, applied in a fresh interpreter: what a confined process can and cannot do,
whatever a framework's operators would let a model try (no TorchScript or ONNX operator opens a socket)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bioclass.server import sandbox

pytestmark = pytest.mark.skipif(sandbox.abi_version() < 4, reason="needs Landlock with network rules (ABI 4)")

PROBE = textwrap.dedent('''
    import json, os, resource, socket, sys, ctypes
    from pathlib import Path
    from bioclass.server import sandbox

    model, scratch, outside, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    namespace_before = os.readlink("/proc/self/ns/net")
    sandbox.confine(sandbox.View({model: sandbox.READ_ONLY, scratch: sandbox.EVERYTHING}), sandbox.Limits(),
                    os.getppid(), 2048)
    results = {}

    def attempt(name, action):
        try:
            action()
            results[name] = "allowed"
        except OSError as exc:
            results[name] = type(exc).__name__

    def udp():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"x", ("127.0.0.1", port))

    attempt("read /etc/passwd", lambda: open("/etc/passwd").read())
    attempt("list /", lambda: os.listdir("/"))
    attempt("write outside", lambda: open(os.path.join(outside, "x"), "w"))
    attempt("write model folder", lambda: open(os.path.join(model, "x"), "w"))
    attempt("read model folder", lambda: open(os.path.join(model, "card.yaml")).read())
    attempt("write scratch", lambda: open(os.path.join(scratch, "x"), "w").write("ok"))
    attempt("list /dev/shm", lambda: os.listdir("/dev/shm"))
    attempt("create in /dev/shm", lambda: open("/dev/shm/bioclass-probe", "w"))
    attempt("tcp connect", lambda: socket.create_connection(("127.0.0.1", port), timeout=2))
    attempt("tcp bind", lambda: socket.socket().bind(("127.0.0.1", 0)))
    attempt("udp send", udp)
    attempt("import numpy", lambda: __import__("numpy"))
    status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines())
    results["no_new_privs"] = status["NoNewPrivs"].strip()
    results["data_limit"] = resource.getrlimit(resource.RLIMIT_DATA)[0]
    libc = ctypes.CDLL(None, use_errno=True)
    signal_number = ctypes.c_int(0)
    libc.prctl(2, ctypes.byref(signal_number), 0, 0, 0)  # PR_GET_PDEATHSIG
    results["death_signal"] = signal_number.value
    results["new_network_namespace"] = os.readlink("/proc/self/ns/net") != namespace_before
    print(json.dumps(results))
''')


def test_a_confined_process_reaches_only_its_view(tmp_path: Path):
    model, scratch, outside = (tmp_path / name for name in ("model", "scratch", "outside"))
    for folder in (model, scratch, outside):
        folder.mkdir()
    (model / "card.yaml").write_text("id: probe\n")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        done = subprocess.run([sys.executable, "-c", PROBE, str(model), str(scratch), str(outside), str(port)],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    namespaced = results.pop("new_network_namespace")
    assert results == {
        "read /etc/passwd": "PermissionError", "list /": "PermissionError", "write outside": "PermissionError",
        "write model folder": "PermissionError", "read model folder": "allowed", "write scratch": "allowed",
        "list /dev/shm": "PermissionError", "create in /dev/shm": "PermissionError",
        "tcp connect": "PermissionError", "tcp bind": "PermissionError",
        # UDP has no Landlock rule: only a network namespace (root, or unprivileged user namespaces) stops it.
        "udp send": "OSError" if namespaced else "allowed",
        "import numpy": "allowed", "no_new_privs": "1", "data_limit": 2048 * 1024 * 1024, "death_signal": 9}
    assert list(outside.iterdir()) == [] and (scratch / "x").read_text() == "ok"
    assert not Path("/dev/shm/bioclass-probe").exists()
    if os.geteuid() == 0:
        assert namespaced  # root may always unshare: UDP and raw sockets are cut off too


def test_a_process_whose_parent_is_gone_exits_at_once():
    """die_with_parent's second half: a parent that died before PR_SET_PDEATHSIG was set is noticed."""
    done = subprocess.run([sys.executable, "-c", "from bioclass.server import sandbox; "
                           "sandbox.die_with_parent(1); print('still here')"], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout) == (1, "")


JOB_PROBE = textwrap.dedent('''
    import json, os, sys
    from bioclass.server import sandbox
    from bioclass.server.training import worker

    dataset, job_dir, scratch, outside = sys.argv[1:5]
    plan = {"dataset_root": dataset, "job_dir": job_dir, "config": {"pretrained": "auto"}}
    worker.confine(plan, scratch, sandbox.Limits(), os.getppid())
    results = {}
    for name, action in [("read dataset", lambda: open(os.path.join(dataset, "a.png")).read()),
                         ("write dataset", lambda: open(os.path.join(dataset, "b.png"), "w")),
                         ("write job folder", lambda: open(os.path.join(job_dir, "export.pt"), "w").write("ok")),
                         ("read outside", lambda: open(os.path.join(outside, "secret")).read()),
                         ("write outside", lambda: open(os.path.join(outside, "planted"), "w"))]:
        try:
            action()
            results[name] = "allowed"
        except OSError as exc:
            results[name] = type(exc).__name__
    results["TMPDIR"] = os.environ["TMPDIR"]
    print(json.dumps(results))
''')


def test_a_training_job_reaches_its_dataset_and_job_folder_only(tmp_path: Path):
    dataset, job_dir, scratch, outside = (tmp_path / name for name in ("dataset", "job", "scratch", "outside"))
    for folder in (dataset, scratch, outside):
        folder.mkdir()
    (dataset / "a.png").write_text("pixels")
    (outside / "secret").write_text("secret")
    done = subprocess.run([sys.executable, "-c", JOB_PROBE, *map(str, (dataset, job_dir, scratch, outside))],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "read dataset": "allowed", "write dataset": "PermissionError", "write job folder": "allowed",
        "read outside": "PermissionError", "write outside": "PermissionError", "TMPDIR": str(scratch)}
    assert (job_dir / "export.pt").read_text() == "ok" and sorted(p.name for p in outside.iterdir()) == ["secret"]
