"""The Prometheus endpoint shows requests, failures, latencies, batch sizes, models and memory."""
import numpy as np
import tritonclient.grpc as tg
from tritonclient.utils import InferenceServerException

from .serving_support import metric, scrape


def test_metrics_count_requests_failures_batches_and_memory(serving_server, triton):
    tensor = tg.InferInput("image", [1, 8, 8, 3], "UINT8")
    tensor.set_data_from_numpy(np.zeros((1, 8, 8, 3), np.uint8))
    triton.infer("unbatched", [tensor])
    bad = tg.InferInput("image", [1, 8, 8], "UINT8")
    bad.set_data_from_numpy(np.zeros((1, 8, 8), np.uint8))
    try:
        triton.infer("unbatched", [bad])
    except InferenceServerException:
        pass
    text = scrape(serving_server.metrics_url)
    assert metric(text, "bioclass_requests_total", model="unbatched", method="ModelInfer") >= 2
    assert metric(text, "bioclass_request_failures_total", model="unbatched", method="ModelInfer",
                  code="INVALID_ARGUMENT") >= 1
    assert metric(text, "bioclass_batch_size_count", model="unbatched") >= 1
    assert metric(text, "bioclass_compute_seconds_count", model="unbatched") >= 1
    assert metric(text, "bioclass_queue_seconds_count", model="unbatched") >= 1
    assert metric(text, "bioclass_request_seconds_count", model="unbatched", method="ModelInfer") >= 1
    assert metric(text, "bioclass_loaded_models") >= 1
    assert metric(text, "bioclass_model_process_resident_memory_bytes", model="unbatched", instance="0") > 1e6
    assert metric(text, "process_resident_memory_bytes") > 1e6


def test_metrics_show_each_model_state_memory_and_last_use(serving_server, triton):
    tensor = tg.InferInput("image", [1, 8, 8, 3], "UINT8")
    tensor.set_data_from_numpy(np.zeros((1, 8, 8, 3), np.uint8))
    triton.infer("batched", [tensor])
    triton.load_model("unbatched")
    triton.unload_model("unbatched")
    text = scrape(serving_server.metrics_url)
    assert metric(text, "bioclass_model_state", model="unbatched", version="1", state="UNLOADED") == 1
    assert metric(text, "bioclass_model_memory_bytes", model="unbatched", version="1") == 0
    assert metric(text, "bioclass_model_state", model="batched", version="1", state="LOADED") == 1
    assert metric(text, "bioclass_model_state", model="batched", version="1", state="UNLOADED") == 0
    assert metric(text, "bioclass_model_memory_bytes", model="batched", version="1") > 1e6
    assert metric(text, "bioclass_model_last_used_seconds", model="batched", version="1") > 1.6e9
    for model in ("batched", "unbatched", "fixed-batch", "two-instances", "tiny-queue"):
        each = {state: metric(text, "bioclass_model_state", model=model, version="1", state=state)
                for state in ("AVAILABLE", "LOADING", "LOADED", "UNLOADED", "FAILED")}
        assert sorted(each.values()) == [0, 0, 0, 0, 1], (model, each)  # one state at a time
        if each["LOADED"] == 0:
            assert metric(text, "bioclass_model_memory_bytes", model=model, version="1") == 0
        if each["AVAILABLE"] == 1:
            assert metric(text, "bioclass_model_last_used_seconds", model=model, version="1") == 0
