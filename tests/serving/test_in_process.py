"""ONNX models served inside the server process (serving.isolation: in_process): the same answers
and batching as a model process, no model process, and the option refused where it cannot apply."""
import numpy as np
import pytest
import tritonclient.grpc as tg
from tritonclient.utils import InferenceServerException

from bioclass.client import Client
from models import solid_image

from .serving_support import batch_sizes, image_input, metric, scrape, run_together


def test_in_process_answers_as_the_model_process_does(serving_server, triton):
    values = np.linspace(0.05, 0.95, 5)
    batch = np.stack([solid_image(v, 24) for v in values])
    tensor = tg.InferInput("image", list(batch.shape), "UINT8")
    tensor.set_data_from_numpy(batch)
    in_process = triton.infer("in-process", [tensor]).as_numpy("probabilities")
    in_child = triton.infer("unbatched", [tensor]).as_numpy("probabilities")
    np.testing.assert_allclose(in_process, in_child, atol=1e-6)
    assert in_process.shape == (5, 2)


def test_in_process_batches_concurrent_callers_of_both_apis(serving_server, triton):
    clients = [tg.InferenceServerClient(serving_server.address) for _ in range(3)]
    own = [Client(serving_server.address) for _ in range(3)]
    values = [0.9, 0.1, 0.8]
    answers = run_together(
        [lambda c=c, v=v: c.infer("in-process", [image_input(v)]).as_numpy("label")[0].decode()
         for c, v in zip(clients, values)]
        + [lambda c=c, v=v: c.predict(solid_image(v, 24), "in-process").label for c, v in zip(own, values)])
    assert answers == ["bright", "dark", "bright"] * 2
    assert max(batch_sizes(triton, "in-process")) >= 3
    for c in own:
        c.close()


def test_in_process_runs_no_model_process_and_reports_its_errors(serving_server, triton):
    triton.infer("in-process", [image_input(0.5)])
    bad = tg.InferInput("input", [1, 3, 5, 5], "FP32")  # the network's own tensor, of the wrong size
    bad.set_data_from_numpy(np.zeros((1, 3, 5, 5), np.float32))
    with pytest.raises(InferenceServerException, match="INVALID_ARGUMENT|shape"):
        triton.infer("in-process", [bad])
    assert triton.infer("in-process", [image_input(0.9)]).as_numpy("label")[0] == b"bright"  # still serving
    text = scrape(serving_server.metrics_url)
    assert metric(text, "bioclass_requests_total", model="in-process", method="ModelInfer") >= 2
    with pytest.raises(AssertionError, match="no sample"):
        metric(text, "bioclass_model_process_resident_memory_bytes", model="in-process", instance="0")
    assert "runs in the server process" in serving_server.log


def test_in_process_is_refused_for_frameworks_that_would_load_in_the_server(serving_server):
    with Client(serving_server.address) as client:
        problems = {p.path: p.reason for p in client.list_models().problems}
    reason = next(r for path, r in problems.items() if "pytorch-in-process" in path)
    assert "in_process is for ONNX models only" in reason

