"""Evaluate: measures per model, several models side by side, streamed or server-side datasets."""
import math
import time

import pytest
from PIL import Image

from bioclass.errors import InvalidArgument, NotFound
from models import solid_image


@pytest.fixture(scope="module")
def brightness_dataset(tmp_path_factory):
    """9 bright, 6 dark (one of them mid-grey and so misclassified), and one unreadable file."""
    root = tmp_path_factory.mktemp("dataset")
    for label, values in (("bright", [0.6 + 0.04 * i for i in range(9)]), ("Dark", [0.1, 0.2, 0.3, 0.05, 0.15, 0.7])):
        (root / label).mkdir()
        for i, value in enumerate(values):
            Image.fromarray(solid_image(value)).save(root / label / f"{i}.png")
    (root / "bright" / "broken.png").write_bytes(b"not a png")
    return root


@pytest.mark.parametrize("on_server", [False, True])
def test_models_compared_side_by_side(client, brightness_dataset, on_server):
    response = client.evaluate(brightness_dataset, ["brightness-onnx", "brightness-keras"], top_k=1,
                               on_server=on_server)
    assert [e.model_id for e in response.evaluations] == ["brightness-onnx", "brightness-keras"]
    for evaluation in response.evaluations:
        assert evaluation.images == 15
        assert evaluation.accuracy == pytest.approx(14 / 15)
        assert list(evaluation.confusion.labels) == ["bright", "dark"]
        assert list(evaluation.confusion.counts) == [9, 0, 1, 5]  # the 0.7 "Dark" image reads bright
        per_class = {c.label: c for c in evaluation.per_class}
        assert per_class["dark"].recall == pytest.approx(5 / 6) and per_class["bright"].precision == pytest.approx(0.9)
        # AUROC of 'dark': the 0.7 dark image ranks below the 6 brights above 0.7 only -> 51 of 54 pairs.
        assert evaluation.auroc == pytest.approx(51 / 54, abs=1e-6)
        assert -1 <= evaluation.mcc <= 1 and not math.isnan(evaluation.cohen_kappa)
        assert evaluation.top_k == 1 and evaluation.ms_per_image > 0
    assert [s.name for s in response.skipped] == ["bright/broken.png"]


def test_labels_must_match(client, tmp_path):
    (tmp_path / "purple").mkdir()
    Image.fromarray(solid_image(0.5)).save(tmp_path / "purple" / "a.png")
    with pytest.raises(InvalidArgument, match="dataset class 'purple' is not a label"):
        client.evaluate(tmp_path, ["brightness-onnx"])


def test_unknown_model_and_missing_models(client, brightness_dataset):
    with pytest.raises(NotFound):
        client.evaluate(brightness_dataset, ["brightness-onnx", "nope"])
    with pytest.raises(InvalidArgument, match="at least one model"):
        client.evaluate(brightness_dataset, [])


def test_a_bad_label_mid_stream_fails_the_call_and_the_server_serves_on(server, client):
    """A refused label while other images are in flight: INVALID_ARGUMENT naming it, and the server
    serves on. (The in-flight images' failures used to be logged as 'Task exception was never
    retrieved' once the garbage collector met them, as the fuzzer saw; when that happens is not
    deterministic, so the log check below guards without reproducing it every time.)"""
    import grpc

    from bioclass.images import to_image
    from bioclass.v1 import classifier_pb2 as pb

    def requests():
        yield pb.EvaluateRequest(config=pb.EvaluateConfig(model_ids=["brightness-onnx"]))
        for index in range(12):
            label = "no-such-class" if index >= 3 else "bright"
            yield pb.EvaluateRequest(sample=pb.LabelledImage(image=to_image(solid_image(0.9)), label=label))

    log_before = len(server.log)
    with pytest.raises(grpc.RpcError) as refused:
        client._stub.Evaluate(requests(), timeout=60)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "no-such-class" in refused.value.details()
    for _ in range(30):
        assert client.predict(solid_image(0.9), "brightness-onnx").label == "bright"
    time.sleep(0.5)
    assert "Traceback" not in server.log[log_before:]


def test_a_stream_out_of_order_is_refused_with_the_reason(client):
    import grpc

    from bioclass.images import to_image
    from bioclass.v1 import classifier_pb2 as pb

    sample = pb.EvaluateRequest(sample=pb.LabelledImage(image=to_image(solid_image(0.9)), label="bright"))
    config = pb.EvaluateRequest(config=pb.EvaluateConfig(model_ids=["brightness-onnx"]))
    for stream, words in (([sample], "the first Evaluate message must carry the configuration"),
                          ([], "the first Evaluate message must carry the configuration"),
                          ([config, sample, config], "only labelled images may follow the configuration")):
        with pytest.raises(grpc.RpcError) as refused:
            client._stub.Evaluate(iter(stream), timeout=60)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and refused.value.details() == words
