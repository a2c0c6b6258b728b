"""Fixtures for the Ray tests: a two-node cluster on loopback, a zoo whose model has a replica per
node, a small dataset, and the real server started with --ray.

Each node has 2 CPUs and one `replica_slot`: the test model's two replicas (1 CPU and one slot
each) land one per node, and the remaining CPU of each node takes one AutoML trial (a Ray Tune
trial of 1 CPU).
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from server_process import ServerProcess

sys.path.insert(0, str(Path(__file__).parent))

from ray_support import AUTH_MODE, LocalCluster  # noqa: E402

REPLICATED_CARD = """
serving:
  replicas: 2
  max_queue_delay_us: 2000
  ray_actor_options:
    num_cpus: 1
    resources:
      replica_slot: 1
"""
AUTOSCALED_CARD = """
serving:
  autoscaling: {min_replicas: 1, max_replicas: 2, target_ongoing_requests: 2}
  ray_actor_options: {num_cpus: 0.5}
"""
ENV = {"BIOCLASS_INFERENCE_THREADS": "1", "BIOCLASS_RAY_TRIALS": "2", "BIOCLASS_RAY_TRIAL_CPUS": "1"}


@pytest.fixture(scope="session")
def cluster():
    nodes = LocalCluster(cpus_per_node=2, resources_per_node={"replica_slot": 1})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_AUTH_MODE", AUTH_MODE)  # the servers and drivers the tests start join it alike
        yield from _started(nodes)


def _started(nodes: LocalCluster):
    try:
        nodes.start_node("node_a")
        nodes.start_node("node_b")
        nodes.ids = nodes.wait_for_nodes({"node_a", "node_b"})
        assert set(nodes.ids) == {"node_a", "node_b"}
        yield nodes
    finally:
        nodes.stop()


@pytest.fixture(scope="session")
def replicated_zoo(test_zoo, tmp_path_factory) -> Path:
    """The ONNX brightness model as two replicas that each need a node's replica slot, and autoscaled."""
    zoo = tmp_path_factory.mktemp("ray-zoo")
    folder = zoo / "brightness-replicated"
    shutil.copytree(test_zoo / "brightness-onnx", folder)
    card = (folder / "card.yaml").read_text().replace("id: brightness-onnx", "id: brightness-replicated")
    (folder / "card.yaml").write_text(card + REPLICATED_CARD)
    autoscaled = zoo / "brightness-autoscaled"
    shutil.copytree(test_zoo / "brightness-onnx", autoscaled)
    card = (autoscaled / "card.yaml").read_text().replace("id: brightness-onnx", "id: brightness-autoscaled")
    (autoscaled / "card.yaml").write_text(card + AUTOSCALED_CARD)
    return zoo


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """12 images per class of malaria-cells-50."""
    from paths import DATASETS

    root = tmp_path_factory.mktemp("ray-data") / "malaria"
    for label in ("Parasitized", "Uninfected"):
        (root / label).mkdir(parents=True)
        for path in sorted((DATASETS / "malaria-cells-50" / label).iterdir())[:12]:
            shutil.copy(path, root / label / path.name)
    return root


@pytest.fixture(scope="session")
def shared_store(tmp_path_factory) -> Path:
    """The model store the nodes share (a local path here; an fsspec URL such as s3://... in a facility)."""
    return tmp_path_factory.mktemp("ray-shared-store")


@pytest.fixture(scope="session")
def ray_server(cluster, replicated_zoo, shared_store, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp("ray-work")
    process = ServerProcess("--no-builtin", "--zoo", str(replicated_zoo), "--ray", cluster.address,
                            "--metrics-port", "0", work_dir=work_dir,
                            env={**ENV, "BIOCLASS_RAY_MODEL_STORE": str(shared_store)}, timeout=120)
    yield process
    process.stop()


@pytest.fixture
def client(ray_server):
    from bioclass.client import Client

    with Client(ray_server.address) as connected:
        yield connected
