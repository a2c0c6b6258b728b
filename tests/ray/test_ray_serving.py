"""Serving on a two-node Ray cluster: the same gRPC front (our API and OIP) routes to replicas on
both nodes, each replica batching what reaches it."""
from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from bioclass.client import Client
from bioclass.errors import InvalidArgument
from models import solid_image

MODEL = "brightness-replicated"


def replica_images(server) -> dict[str, float]:
    """Images answered per Ray node id, from the server's Prometheus endpoint."""
    url = re.search(r"metrics on (http://\S+)", server.log).group(1)
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    pattern = rf'bioclass_replica_images_total\{{model="{MODEL}",node="(\w+)"\}} (\S+)'
    return {node: float(value) for node, value in re.findall(pattern, text)}


def test_predictions_are_answered_by_replicas_on_both_nodes(cluster, ray_server):
    import tritonclient.grpc as tg

    def ours(i: int) -> str:
        with Client(ray_server.address) as client:
            return client.predict(solid_image(0.9 if i % 2 else 0.1), MODEL).label

    def oip(i: int) -> int:
        triton = tg.InferenceServerClient(ray_server.address)
        pixels = tg.InferInput("image", [1, 20, 20, 3], "UINT8")
        pixels.set_data_from_numpy(solid_image(0.9)[None])
        return int(np.argmax(triton.infer(MODEL, [pixels]).as_numpy("probabilities")[0]))

    with ThreadPoolExecutor(8) as pool:
        # The model serves once its first replica is ready; the second may still be loading.
        deadline = time.monotonic() + 60
        while len(replica_images(ray_server)) < 2 and time.monotonic() < deadline:
            list(pool.map(ours, range(8)))
        before = replica_images(ray_server)
        labels = list(pool.map(ours, range(48)))
        classes = list(pool.map(oip, range(16)))

    assert labels == ["bright" if i % 2 else "dark" for i in range(48)]
    assert classes == [0] * 16  # "bright" is the first label
    after = replica_images(ray_server)
    answered = {node: after[node] - before.get(node, 0.0) for node in after}
    assert set(answered) == set(cluster.ids.values()), (answered, cluster.ids)
    assert sum(answered.values()) == 64 and min(answered.values()) > 0


def test_replicas_load_the_model_published_in_the_shared_store(ray_server, client, shared_store):
    from bioclass.v1 import classifier_pb2 as pb

    card = client.model(MODEL)
    assert card.state == pb.LOADED and card.error == ""
    published = [p for p in shared_store.iterdir() if p.name.startswith(f"{MODEL}-")]
    assert len(published) == 1 and (published[0] / ".complete").is_file()
    assert sorted(p.name for p in published[0].iterdir()) == [".complete", "card.yaml", "model.onnx"]
    assert re.search(rf"deployed {MODEL} on Ray .*'num_replicas': 2.* from {published[0]};", ray_server.log)


def test_an_autoscaled_model_serves_and_unloads_through_oip(ray_server, client):
    import tritonclient.grpc as tg

    from bioclass.v1 import classifier_pb2 as pb

    with ThreadPoolExecutor(4) as pool:
        labels = list(pool.map(lambda i: client.predict(solid_image(0.1), "brightness-autoscaled").label, range(12)))
    assert labels == ["dark"] * 12
    assert re.search(r"deployed brightness-autoscaled on Ray .*'autoscaling_config': \{'min_replicas': 1, "
                     r"'max_replicas': 2", ray_server.log)
    tg.InferenceServerClient(ray_server.address).unload_model("brightness-autoscaled")
    assert client.model("brightness-autoscaled").state == pb.AVAILABLE  # its replicas are gone; the next call deploys


@pytest.mark.parametrize("serving, complaint", [
    ({"replicas": 0}, "serving.replicas"),
    ({"replicas": 2, "autoscaling": {"max_replicas": 3}}, "exclude each other"),
    ({"autoscaling": {"min_replicas": 3, "max_replicas": 2}}, "min_replicas <= max_replicas"),
    ({"autoscaling": {"target_requests": 2}}, "unknown keys"),
    ({"ray_actor_options": {"num_cpus": "two"}}, "num_cpus"),
    ({"ray_actor_options": {"resources": {"gpu_slot": -1}}}, "gpu_slot"),
])
def test_bad_ray_serving_options_are_refused_with_the_key(serving, complaint):
    from bioclass.server.cards import serving_options
    from bioclass.server.ray.options import deployment_options

    with pytest.raises(InvalidArgument, match=complaint):
        deployment_options(serving_options(serving), replicas=1, replica_cpus=1.0)


def test_the_clusters_patience_comes_from_the_settings(test_zoo):
    from bioclass.server.batching import BatchPolicy
    from bioclass.server.cards import read_card
    from bioclass.server.ray.cluster import runner_factory
    from bioclass.server.ray.runner import Patience
    from bioclass.server.settings import Settings

    settings = Settings(ray_retry_s=7.0, ray_deploy_timeout_s=9.0)
    runner = runner_factory(settings, BatchPolicy.from_settings(settings))(read_card(test_zoo / "brightness-onnx"),
                                                                          test_zoo / "brightness-onnx")
    assert runner.patience == Patience(retry_s=7.0, deploy_timeout_s=9.0)


def test_card_options_override_the_server_defaults():
    from bioclass.server.cards import ServingOptions, serving_options
    from bioclass.server.ray.options import deployment_options, replica_threads

    scaled = deployment_options(serving_options({"autoscaling": {"min_replicas": 1, "max_replicas": 4,
                                                                 "target_ongoing_requests": 8}}),
                                replicas=2, replica_cpus=1.0)
    assert scaled == {"ray_actor_options": {"num_cpus": 1.0},
                      "autoscaling_config": {"min_replicas": 1, "max_replicas": 4, "target_ongoing_requests": 8}}
    fixed = deployment_options(serving_options({"ray_actor_options": {"num_cpus": 2}}), replicas=3,
                               replica_cpus=1.0)
    assert fixed["num_replicas"] == 3 and replica_threads(fixed) == 2
    everywhere = {"min_replicas": 0, "max_replicas": 3}  # BIOCLASS_RAY_AUTOSCALING
    assert deployment_options(ServingOptions(), 1, 1.0, everywhere)["autoscaling_config"] == everywhere
    assert deployment_options(serving_options({"replicas": 2}), 1, 1.0, everywhere)["num_replicas"] == 2  # the card decides
    with pytest.raises(InvalidArgument, match="serving.autoscaling"):
        deployment_options(ServingOptions(), 1, 1.0, {"max_replicas": 0})


@pytest.mark.parametrize("address, complaint", [("127.0.0.1:1", "cannot reach the Ray cluster's head at 127.0.0.1:1"),
                                                ("nonsense", "--ray wants HOST:PORT")])
def test_a_wrong_cluster_address_fails_at_once_with_one_line(tmp_path, address, complaint):
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "bioclass.cli.main", "serve", "--no-builtin", "--port", "0",
                             "--work-dir", str(tmp_path), "--ray", address], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1 and time.monotonic() - started < 30
    assert result.stderr.strip().splitlines()[-1].startswith(f"bioclass: error: {complaint}")
