"""Pretrained weights: downloaded from a local mirror of the hubs on first use, found in the caches after,
imported from a file, and training from scratch with the reason when the hub cannot be reached.

The mirror is an HTTP server on 127.0.0.1 that answers as the Hugging Face Hub does (HF_ENDPOINT) and as
a plain weights URL does (torchvision's); nothing here reaches the internet.
"""
from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch

from bioclass.errors import InvalidArgument
from bioclass.server.training import networks, pretrained
from bioclass.training import state_name
from server_process import ServerProcess
from training_support import ENV, TINY

ARCH = "mobilenetv3_small_050"
HUB_ID = "timm/mobilenetv3_small_050.lamb_in1k"  # the repo timm names for ARCH's published weights
COMMIT = "0123456789abcdef0123456789abcdef01234567"
# networks.build in a fresh process: huggingface_hub reads HF_ENDPOINT and HF_HOME when imported.
BUILD = """
import sys, torch
from bioclass.server.training import networks
network, source = networks.build(sys.argv[1], 2, "auto", lambda line: print("LOG", line))
print("SOURCE", source)
torch.save(network.state_dict(), sys.argv[2])
"""


class Mirror(ThreadingHTTPServer):
    """Files by URL path; HEAD answers with the headers huggingface_hub reads."""
    files: dict[str, bytes]
    requests: list[str]


class MirrorHandler(BaseHTTPRequestHandler):
    def do_HEAD(self):
        self._answer(body=False)

    def do_GET(self):
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        self.server.requests.append(f"{self.command} {self.path}")
        data = self.server.files.get(self.path)
        if data is None:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        self.send_header("X-Repo-Commit", COMMIT)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


def published_state(arch: str) -> dict:
    """The state a hub would publish: the architecture with its original head, seeded."""
    torch.manual_seed(7)
    return networks.build(arch, 1000, "none")[0].state_dict()


@pytest.fixture(scope="module")
def timm_weights(tmp_path_factory) -> bytes:
    from safetensors.torch import save_file

    path = tmp_path_factory.mktemp("published") / "model.safetensors"
    save_file(published_state(ARCH), str(path))
    return path.read_bytes()


@pytest.fixture
def mirror(timm_weights):
    server = Mirror(("127.0.0.1", 0), MirrorHandler)
    server.files = {f"/{HUB_ID}/resolve/main/model.safetensors": timm_weights}
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def caches(tmp_path, monkeypatch) -> dict:
    """Empty torch hub and Hugging Face caches, for this process and the ones it starts."""
    env = {"TORCH_HOME": str(tmp_path / "torch"), "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_XET": "1"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env={**os.environ, **env}, check=False)


def build_elsewhere(arch: str, env: dict, tmp_path: Path) -> tuple[list[str], str, dict]:
    """(log lines, weights source, state dict) of networks.build(arch, 2, "auto") in a fresh process."""
    result = run([sys.executable, "-c", BUILD, arch, str(tmp_path / "built.pt")], env)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    source = next(line[len("SOURCE "):] for line in lines if line.startswith("SOURCE "))
    return [line[4:] for line in lines if line.startswith("LOG ")], source, torch.load(tmp_path / "built.pt")


def assert_body_is(state: dict, published: dict) -> None:
    for name in ("conv_stem.weight", "blocks.0.0.conv_dw.weight", "conv_head.weight"):
        assert torch.equal(state[name], published[name]), name
    assert state["classifier.weight"].shape == (2, 1024)  # the head is new


def test_pull_downloads_from_the_hub_mirror_into_the_hugging_face_cache(mirror, caches, timm_weights, tmp_path):
    endpoint = f"http://127.0.0.1:{mirror.server_port}"
    env = {**caches, "HF_ENDPOINT": endpoint}
    result = run([sys.executable, "-m", "bioclass.cli.main", "weights", "pull", ARCH], env)
    assert result.returncode == 0, result.stderr[-3000:]
    cached = Path(caches["HF_HOME"]) / "hub" / "models--timm--mobilenetv3_small_050.lamb_in1k" / "snapshots" / \
        COMMIT / "model.safetensors"
    assert result.stdout == f"{ARCH}: pretrained weights in {cached}\n"
    assert cached.read_bytes() == timm_weights
    progress = [line for line in result.stderr.splitlines() if line.startswith(("downloading", "model.safetensors"))]
    size = f"{len(timm_weights) / 1e6:.1f}"
    assert progress[0] == f"downloading {HUB_ID}/model.safetensors from {endpoint}"
    assert progress[-1].startswith(f"model.safetensors: {size} of {size} MB (100%, ")
    assert mirror.requests.count(f"GET /{HUB_ID}/resolve/main/model.safetensors") == 1

    # Training finds the cached file with the mirror gone: no second download.
    mirror.shutdown()
    lines, source, state = build_elsewhere(ARCH, env, tmp_path)
    assert (source, lines) == (str(cached), [f"starting from pretrained weights {cached}"])
    assert_body_is(state, published_state(ARCH))


def test_training_downloads_on_first_use_with_progress(mirror, caches, tmp_path):
    env = {**caches, "HF_ENDPOINT": f"http://127.0.0.1:{mirror.server_port}"}
    lines, source, state = build_elsewhere(ARCH, env, tmp_path)
    assert source.endswith(f"snapshots/{COMMIT}/model.safetensors") and source.startswith(caches["HF_HOME"])
    assert lines[0] == f"downloading {HUB_ID}/model.safetensors from {env['HF_ENDPOINT']}"
    assert "(100%, " in lines[-2] and lines[-1] == f"starting from pretrained weights {source}"
    assert_body_is(state, published_state(ARCH))


def test_offline_training_starts_from_scratch_with_the_reason(caches, tmp_path):
    port = closed_port()
    env = {**caches, "HF_ENDPOINT": f"http://127.0.0.1:{port}"}
    lines, source, _ = build_elsewhere(ARCH, env, tmp_path)
    assert source == ""
    reason = f"127.0.0.1:{port} cannot be reached ([Errno 111] Connection refused)"
    assert lines == [f"no pretrained weights for timm:{ARCH}: {reason}; training from scratch"]
    result = run([sys.executable, "-m", "bioclass.cli.main", "weights", "pull", ARCH], env)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"bioclass: error: no pretrained weights for {ARCH}: "
                             f"127.0.0.1:{port} cannot be reached ([Errno 111] Connection refused)\n")


def test_import_puts_a_file_where_training_finds_it_first(caches, tmp_path):
    torch.save(published_state(ARCH), tmp_path / "from-a-colleague.pth")
    env = {**caches, "HF_ENDPOINT": f"http://127.0.0.1:{closed_port()}"}  # offline: only the import can serve
    result = run([sys.executable, "-m", "bioclass.cli.main", "weights", "import", ARCH,
                  str(tmp_path / "from-a-colleague.pth")], env)
    target = Path(caches["TORCH_HOME"]) / "hub" / "checkpoints" / f"bioclass-timm-{ARCH}.pth"
    imported = f"{ARCH}: imported {tmp_path / 'from-a-colleague.pth'} as {target}\n"
    assert (result.returncode, result.stdout) == (0, imported), result.stderr
    lines, source, state = build_elsewhere(ARCH, env, tmp_path)
    assert (source, lines) == (str(target), [f"starting from pretrained weights {target}"])
    assert_body_is(state, published_state(ARCH))


def test_import_refuses_a_file_that_does_not_fit(caches, tmp_path):
    torch.save({"unrelated.weight": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(InvalidArgument, match="do not fit"):
        networks.import_weights(ARCH, tmp_path / "other.pth")
    assert not (Path(caches["TORCH_HOME"]) / "hub" / "checkpoints").exists()
    with pytest.raises(InvalidArgument, match="no pretrained weights"):
        networks.import_weights("bioclass:small_cnn3", tmp_path / "other.pth")


def test_torchvision_weights_download_from_their_url_into_torch_hub(mirror, caches, tmp_path):
    state = published_state("torchvision:squeezenet1_1")
    torch.save(state, tmp_path / "squeezenet.pth")
    published = pretrained.published("torchvision", "squeezenet1_1", networks.build("torchvision:squeezenet1_1", 2,
                                                                                     "none")[0])
    name = published.url.rsplit("/", 1)[1]  # the file name torchvision's own download would use
    mirror.files[f"/models/{name}"] = (tmp_path / "squeezenet.pth").read_bytes()
    lines: list[str] = []
    local = pretrained.Published(published.arch, url=f"http://127.0.0.1:{mirror.server_port}/models/{name}")
    path = pretrained.fetch(local, lines.append)
    assert path == Path(caches["TORCH_HOME"]) / "hub" / "checkpoints" / name
    assert lines[0] == f"downloading {local.url}" and "(100%, " in lines[-1]
    assert sorted(p.name for p in path.parent.iterdir()) == [name]  # no partial file left behind
    network, source = networks.build("torchvision:squeezenet1_1", 3, "auto", lines.append)  # found in the cache
    assert source == str(path) and lines[-1] == f"starting from pretrained weights {path}"
    assert torch.equal(network.state_dict()["features.0.weight"], state["features.0.weight"])


def test_a_training_job_downloads_on_first_use_and_logs_its_progress(mirror, caches, tiny_dataset, tmp_path):
    from bioclass.client import Client

    endpoint = f"http://127.0.0.1:{mirror.server_port}"
    server = ServerProcess("--no-builtin", work_dir=tmp_path / "work", env={**ENV, **caches, "HF_ENDPOINT": endpoint})
    try:
        with Client(server.address) as client:
            job_id = client.training.train(tiny_dataset, ARCH, model_id="pretrained-malaria", **TINY)
            updates = list(client.training.watch(job_id))
            job = client.training.job(job_id)
    finally:
        server.stop()
    assert state_name(updates[-1].state) == "succeeded", job.error
    cached = (Path(caches["HF_HOME"]) / "hub" / "models--timm--mobilenetv3_small_050.lamb_in1k" / "snapshots" /
              COMMIT / "model.safetensors")
    assert f"downloading {HUB_ID}/model.safetensors from {endpoint}" in job.log
    assert [line for line in job.log if line.startswith("model.safetensors: ")][-1].count("(100%, ") == 1
    assert f"starting from pretrained weights {cached}" in job.log and job.weights_source == str(cached)
