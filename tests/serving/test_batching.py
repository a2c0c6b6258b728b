"""Dynamic batching: concurrent callers share forward passes, each gets its own rows; bounded queues."""
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import tritonclient.grpc as tg
from tritonclient.utils import InferenceServerException

from bioclass.client import Client
from models import solid_image

from .serving_support import batch_sizes, image_input, run_together


def test_concurrent_callers_of_both_apis_share_a_batch_and_get_their_own_rows(serving_server, triton):
    triton.load_model("batched")
    clients = [tg.InferenceServerClient(serving_server.address) for _ in range(4)]
    own = [Client(serving_server.address) for _ in range(4)]
    values = [0.9, 0.1, 0.8, 0.2]
    oip_calls = [lambda c=c, v=v: c.infer("batched", [image_input(v)]).as_numpy("label")[0].decode()
                 for c, v in zip(clients, values)]
    own_calls = [lambda c=c, v=v: c.predict(solid_image(v, 24), "batched").label for c, v in zip(own, values)]
    answers = run_together(oip_calls + own_calls)
    assert answers == ["bright", "dark", "bright", "dark"] * 2
    sizes = batch_sizes(triton, "batched")
    assert sum(size * count for size, count in sizes.items()) == 8
    assert max(sizes) >= 4, sizes  # the 300 ms delay lets the eight requests meet
    stats = triton.get_inference_statistics("batched").model_stats[0]
    assert stats.inference_count / stats.execution_count >= 2  # average batch size
    for c in own:
        c.close()


def test_a_request_of_several_images_keeps_its_rows_in_a_merged_batch(serving_server, triton):
    clients = [tg.InferenceServerClient(serving_server.address) for _ in range(3)]
    requests = [(0.9, 0.1, 0.1), (0.1, 0.9), (0.7,)]
    answers = run_together([lambda c=c, r=r: [x.decode() for x in c.infer("batched", [image_input(*r)]).as_numpy("label")]
                            for c, r in zip(clients, requests)])
    expected = [["bright" if v > 0.5 else "dark" for v in r] for r in requests]
    assert answers == expected


def test_max_batch_size_one_never_merges(serving_server, triton):
    clients = [tg.InferenceServerClient(serving_server.address) for _ in range(6)]
    run_together([lambda c=c: c.infer("unbatched", [image_input(0.9)]) for c in clients])
    assert set(batch_sizes(triton, "unbatched")) == {1}


def test_several_instances_answer_correctly(serving_server, triton):
    clients = [tg.InferenceServerClient(serving_server.address) for _ in range(8)]
    values = [0.9, 0.1] * 4
    answers = run_together([lambda c=c, v=v: c.infer("two-instances", [image_input(v)]).as_numpy("label")[0].decode()
                            for c, v in zip(clients, values)])
    assert answers == ["bright", "dark"] * 4


def test_a_full_queue_answers_resource_exhausted(serving_server, triton):
    triton.load_model("tiny-queue")
    waiting = ThreadPoolExecutor(1).submit(triton.infer, "tiny-queue", [image_input(0.9, 0.1)])
    time.sleep(0.4)  # the two images now wait 1.5 s for a fuller batch: the queue (2 images) is full
    with pytest.raises(InferenceServerException) as error:
        tg.InferenceServerClient(serving_server.address).infer("tiny-queue", [image_input(0.5)])
    assert error.value.status() == "StatusCode.RESOURCE_EXHAUSTED"
    assert [x.decode() for x in waiting.result(timeout=30).as_numpy("label")] == ["bright", "dark"]


def test_a_network_with_a_fixed_batch_axis_answers_everyone_and_stops_merging(serving_server, triton):
    triton.load_model("fixed-batch")
    clients = [tg.InferenceServerClient(serving_server.address) for _ in range(4)]
    values = [0.9, 0.1, 0.8, 0.2]
    calls = [lambda c=c, v=v: c.infer("fixed-batch", [image_input(v)]).as_numpy("label")[0].decode()
             for c, v in zip(clients, values)]
    assert run_together(calls) == ["bright", "dark", "bright", "dark"]
    assert run_together(calls) == ["bright", "dark", "bright", "dark"]
    assert set(batch_sizes(triton, "fixed-batch")) == {1}
    assert "batching is off for this model" in serving_server.log
