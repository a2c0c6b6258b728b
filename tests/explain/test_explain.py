"""Saliency maps point at the marker that alone decides the class, in every framework and method."""
from __future__ import annotations

import numpy as np
import pytest

from bioclass.errors import InvalidArgument, NotFound
from marker_models import MARKER, SIZE, marker_image

# (model, method asked, method expected)
CASES = [("marker-pytorch", "auto", "gradcam"), ("marker-keras", "auto", "gradcam"),
         ("marker-onnx", "auto", "occlusion"), ("marker-pytorch", "occlusion", "occlusion")]


def marker_mask(shape: tuple[int, int], corner: tuple[int, int], scale: float, margin: int = 2) -> np.ndarray:
    """True on the marker (grown by `margin` pixels) in an image `scale` times the network size."""
    side = round(MARKER * scale)
    top, left = corner
    mask = np.zeros(shape, bool)
    mask[max(0, top - margin):top + side + margin, max(0, left - margin):left + side + margin] = True
    return mask


@pytest.mark.parametrize("model, method, expected", CASES)
@pytest.mark.parametrize("corner", [(4, 4), (20, 18)])
def test_map_points_at_the_marker(marker_client, model, method, expected, corner):
    image = marker_image(corner)
    explanation = marker_client.explain(image, model, method=method)
    saliency = explanation.saliency
    assert explanation.method == expected
    assert explanation.class_label == "marked" == explanation.prediction.label
    assert saliency.shape == (SIZE, SIZE) and saliency.dtype == np.float32
    assert saliency.min() >= 0 and saliency.max() == pytest.approx(1.0)
    # Occlusion blurs by its window (8 pixels, stride 4): allow half a window around the marker.
    mask = marker_mask(saliency.shape, corner, 1.0, margin=2 if expected == "gradcam" else 4)
    assert mask[np.unravel_index(np.argmax(saliency), saliency.shape)]
    assert saliency[mask].sum() / saliency.sum() > 0.8


@pytest.mark.parametrize("model", ["marker-pytorch", "marker-onnx"])
def test_map_has_the_size_of_the_image_sent(marker_client, model):
    """A 48x64 image is stretched to the 32x32 input; the map comes back at 48x64, marker included."""
    image = np.asarray(__import__("PIL.Image", fromlist=["Image"]).fromarray(marker_image((4, 20)))
                       .resize((64, 48), 0))
    explanation = marker_client.explain(image, model)
    assert explanation.saliency.shape == (48, 64)
    top, left = np.unravel_index(np.argmax(explanation.saliency), explanation.saliency.shape)
    assert 4 <= top <= 4 + 14 and 38 <= left <= 40 + 18


def test_chosen_class_by_label_and_index(marker_client):
    image = marker_image((4, 4))
    by_label = marker_client.explain(image, "marker-pytorch", target="PLAIN")
    by_index = marker_client.explain(image, "marker-pytorch", target=1)
    assert by_label.class_label == by_index.class_label == "plain" and by_label.class_index == 1
    assert np.allclose(by_label.saliency, by_index.saliency)


def test_predict_can_attach_the_map(marker_client):
    prediction = marker_client.predict(marker_image((20, 18)), "marker-keras", explain="auto")
    assert prediction.label == "marked"
    assert prediction.explanation.method == "gradcam"
    assert prediction.explanation.saliency.shape == (SIZE, SIZE)
    assert marker_client.predict(marker_image((20, 18)), "marker-keras").explanation is None


def test_unknown_class_label_names_the_labels(marker_client):
    with pytest.raises(InvalidArgument, match="marked, plain"):
        marker_client.explain(marker_image(None), "marker-onnx", target="tumour")


def test_errors(marker_client):
    with pytest.raises(NotFound):
        marker_client.explain(marker_image(None), "no-such-model")
    with pytest.raises(InvalidArgument, match="occlusion"):
        marker_client.explain(marker_image(None), "marker-onnx", method="gradcam")
    with pytest.raises(InvalidArgument, match="out of range"):
        marker_client.explain(marker_image(None), "marker-onnx", target=7)
    with pytest.raises(InvalidArgument, match="method"):
        marker_client.explain(marker_image(None), "marker-onnx", method="lime")
    with pytest.raises(InvalidArgument):
        marker_client.explain(b"not an image", "marker-pytorch")


def test_predict_stream_attaches_maps_on_request(marker_server):
    import grpc

    from bioclass.explanations import Explanation, options
    from bioclass.images import to_image
    from bioclass.v1 import classifier_pb2 as pb
    from bioclass.v1 import classifier_pb2_grpc

    requests = [pb.PredictRequest(model_id="marker-onnx", image=to_image(marker_image((4, 4))),
                                  explain=options("occlusion")),
                pb.PredictRequest(model_id="marker-onnx", image=to_image(marker_image(None))),
                pb.PredictRequest(model_id="marker-onnx", image=to_image(marker_image(None)),
                                  explain=options(target="tumour"))]
    with grpc.insecure_channel(marker_server.address) as channel:
        responses = list(classifier_pb2_grpc.ClassifierStub(channel).PredictStream(iter(requests), timeout=120))
    first = Explanation.from_message(responses[0].prediction.explanation)
    assert first.method == "occlusion" and first.saliency.shape == (SIZE, SIZE)
    assert not responses[1].prediction.HasField("explanation")
    assert responses[2].error.code == "INVALID_ARGUMENT" and "marked, plain" in responses[2].error.message
