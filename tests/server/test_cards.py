"""Card validation: every problem is named, valid cards keep their values."""
import pytest
import yaml

from bioclass.errors import InvalidArgument
from bioclass.server.cards import parse_card

VALID = {
    "id": "cells-v1", "framework": "onnx", "weights": "model.onnx",
    "input": {"axes": "bchw", "channels": 3, "size": [64, 48]},
    "preprocessing": {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]},
    "output": {"labels": ["a", "b"]},
}


def card_text(**changes) -> str:
    data = {**VALID, **changes}
    return yaml.safe_dump({k: v for k, v in data.items() if v is not None})


def test_valid_card_keeps_values_and_infers_format():
    card = parse_card(card_text())
    assert card.id == "cells-v1"
    assert card.input.size == (64, 48)
    assert card.weight_format == "onnx"
    assert card.labels == ("a", "b")
    assert card.output.activation == "softmax"


@pytest.mark.parametrize("weights, framework, extra, expected", [
    ("model.pt", "pytorch", {}, "torchscript"),
    ("w.pth", "pytorch", {"architecture": "timm:resnet18"}, "state_dict"),
    ("model.keras", "keras", {}, "keras"),
    ("model.h5", "keras", {}, "h5"),
    ("saved_model", "keras", {}, "savedmodel"),
])
def test_format_inferred_from_weights(weights, framework, extra, expected):
    assert parse_card(card_text(weights=weights, framework=framework, **extra)).weight_format == expected


@pytest.mark.parametrize("changes, message", [
    ({"id": "Bad Id"}, "id"),
    ({"framework": "caffe"}, "framework"),
    ({"weights": "../../etc/passwd"}, "weights"),
    ({"weights": "/abs/model.onnx"}, "weights"),
    ({"output": {"labels": ["only"]}}, "at least two labels"),
    ({"output": {"labels": ["a", "A"]}}, "distinct"),
    ({"input": {"channels": 3, "size": [0, 10]}}, "size"),
    ({"input": {"channels": 2, "size": [8, 8]}}, "channels"),
    ({"preprocessing": {"mean": [0.5, 0.5], "std": [1, 1]}}, "mean needs 1 or 3"),
    ({"preprocessing": {"std": [0.0], "mean": [0.1]}}, "std values must be positive"),
    ({"preprocessing": {"scale": "percentile", "percentiles": [90, 10]}}, "percentiles"),
    ({"framework": "pytorch", "weights": "w.bin", "format": "state_dict"}, "architecture"),
    ({"framework": "onnx", "weights": "model.keras"}, "format 'keras'"),
    ({"unexpected": 1}, "unexpected"),
])
def test_invalid_cards_name_the_problem(changes, message):
    with pytest.raises(InvalidArgument, match=message):
        parse_card(card_text(**changes), "test card")


def test_yaml_errors_are_invalid_argument():
    with pytest.raises(InvalidArgument, match="not valid YAML"):
        parse_card("id: [unclosed")
    with pytest.raises(InvalidArgument, match="mapping"):
        parse_card("- a list")


CLASSICAL = {"framework": "classical", "weights": "head.onnx",
             "features": {"name": "bioclass-texture", "version": 1, "scales": 2}}


def test_a_classical_card_keeps_its_feature_set():
    card = parse_card(card_text(**CLASSICAL))
    assert (card.framework, card.weight_format, card.features.scales, card.features.grey_levels) == \
        ("classical", "onnx", 2, 32)


@pytest.mark.parametrize("changes, problem", [
    ({**CLASSICAL, "features": None}, "a classical model needs features"),
    ({"features": CLASSICAL["features"]}, "only a classical model has them"),
    ({**CLASSICAL, "input": {"size": [2048, 2048]}}, "input size is at most 1024"),
    ({**CLASSICAL, "features": {"name": "bioclass-texture", "version": 2}}, "features.version"),
    ({**CLASSICAL, "features": {"name": "wnd-charm"}}, "features.name"),
    ({**CLASSICAL, "features": {"scales": 9}}, "features.scales"),
])
def test_a_classical_card_is_checked_and_bounded(changes, problem):
    with pytest.raises(InvalidArgument, match=problem):
        parse_card(card_text(**changes))
