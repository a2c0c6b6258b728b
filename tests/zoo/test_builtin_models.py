"""The built-in zoo: served by default, and its three malaria exports agree on the sample images."""
import pytest

from paths import SAMPLES

MALARIA = ["malaria-cnn-pytorch", "malaria-cnn-onnx", "malaria-cnn-keras"]
WBC = ["wbc-cnn-onnx", "wbc-cnn-pytorch"]


def true_label(path) -> str:
    return path.name.split("_", 1)[0]


def test_builtin_models_are_served(client):
    builtin = {m.id for m in client.models(tags=["builtin"])}
    assert set(MALARIA + WBC) <= builtin
    card = client.model("malaria-cnn-onnx")
    assert card.provenance.metrics["test_accuracy"] > 0.85 and card.provenance.citation


@pytest.mark.parametrize("sample", sorted((SAMPLES / "malaria").glob("*.png")), ids=lambda p: p.name[:30])
def test_malaria_frameworks_agree_on_samples(client, sample):
    predictions = [client.predict(sample, model) for model in MALARIA]
    assert {p.label for p in predictions} == {true_label(sample)}
    reference = predictions[0].probabilities
    for other in predictions[1:]:
        assert other.probabilities == pytest.approx(reference, abs=1e-4)


def test_wbc_models_classify_samples(client):
    samples = sorted((SAMPLES / "wbc").glob("*.jpeg"))
    for model in WBC:
        labels = [p.label for p in client.predict_many(samples, model, top_k=4)]
        assert labels == [true_label(s) for s in samples]


def test_16bit_samples_are_accepted_by_an_rgb_model(client):
    for page in range(3):
        result = client.predict(SAMPLES / "tiff16" / "dapi_3pages_256_uint16.tif", "malaria-cnn-onnx", page=page)
        assert sum(result.probabilities) == pytest.approx(1, abs=1e-5)
