"""A real two-node Ray cluster on loopback, started and stopped by the tests (a plain module:
conftest modules shadow each other).

Each node is `ray start --block` in its own process group, so one node (its raylet and the
workers it started) can be killed alone, as a machine that fails would be. Node names are custom
resources (node_a, node_b); the GCS declares a silent node dead after about three seconds.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))
# Fast failure detection, so a lost node shows within the test's time.
SYSTEM_CONFIG = {"health_check_initial_delay_ms": 1000, "health_check_period_ms": 1000,
                 "health_check_failure_threshold": 3}
# A loopback cluster without Ray's token authentication, said explicitly: a ~/.ray/auth_token left by
# any earlier local ray.init() makes a head started with the mode unset require tokens, which
# `ray start --address` for the second node does not send.
AUTH_MODE = "disabled"
NODES_SCRIPT = """
import json, sys, ray
ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)
alive = [n for n in ray.nodes() if n["Alive"]]
print(json.dumps({next(k for k in n["Resources"] if k.startswith("node_")): n["NodeID"] for n in alive}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalCluster:
    def __init__(self, cpus_per_node: int, resources_per_node: dict):
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        # Short: Ray's unix socket paths live under it (at most 107 characters).
        self.temp_dir = Path(tempfile.mkdtemp(prefix="bcray-", dir="/tmp"))
        self.cpus, self.resources = cpus_per_node, resources_per_node
        self.nodes: dict[str, subprocess.Popen] = {}
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": AUTH_MODE}

    def start_node(self, name: str, timeout: float = 90.0) -> None:
        head = not self.nodes
        resources = json.dumps({name: 1, **self.resources})
        where = ["--head", f"--port={self.port}", "--include-dashboard=false",
                 f"--system-config={json.dumps(SYSTEM_CONFIG)}", f"--temp-dir={self.temp_dir}"] if head \
            else [f"--address={self.address}"]
        log = open(self.temp_dir / f"{name}.log", "w")
        self.nodes[name] = subprocess.Popen(
            [RAY, "start", "--block", "--node-ip-address=127.0.0.1", f"--num-cpus={self.cpus}",
             f"--resources={resources}", "--disable-usage-stats", *where],
            stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "Ray runtime started" in (self.temp_dir / f"{name}.log").read_text():
                return
            if self.nodes[name].poll() is not None:
                break
            time.sleep(0.5)
        raise RuntimeError(f"ray node {name} did not start:\n{(self.temp_dir / f'{name}.log').read_text()}")

    def node_ids(self) -> dict[str, str]:
        """Node name -> Ray node id, for the nodes alive now."""
        result = subprocess.run([sys.executable, "-c", NODES_SCRIPT, self.address], capture_output=True,
                                text=True, timeout=60, env=self.env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    def wait_for_nodes(self, names: set[str], timeout: float = 60.0) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while True:
            ids = self.node_ids()
            if set(ids) == names or time.monotonic() > deadline:
                return ids
            time.sleep(1)

    def kill_node(self, name: str) -> None:
        """Kill the node's raylet and every process it started, at once (SIGKILL, no goodbye)."""
        process = self.nodes.pop(name)
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(10)

    def stop(self) -> None:
        for name in list(self.nodes)[::-1]:
            self.kill_node(name)
        # Belt and braces: anything of this cluster that left its process group.
        subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=60, env=self.env)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def wait_for(condition, timeout: float, what: str):
    """condition()'s first truthy value, polled twice a second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def tune_trials(work_dir: Path, run_id: str) -> list[Path]:
    """The trial folders of the run's Ray Tune experiments (work_dir/automl/<run>/tune/<experiment>/)."""
    return sorted(p for p in (work_dir / "automl" / run_id / "tune").glob("search-*/run_trial_*") if p.is_dir())
