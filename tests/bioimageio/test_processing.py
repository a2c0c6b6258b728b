"""Card preprocessing -> bioimage.io operations (validated by bioimageio.spec) -> card preprocessing."""
from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from bioclass.errors import InvalidArgument
from bioclass.server.bioimageio import processing
from bioclass.server.cards import ModelCard

PREPROCESSING = [
    {"scale": "range"},
    {"scale": "range", "mean": [0.5, 0.4, 0.3], "std": [0.2, 0.25, 0.3]},
    {"scale": "minmax"},
    {"scale": "percentile", "percentiles": [2.0, 99.5]},
    {"scale": "zscore"},
    {"scale": "none", "mean": [100.0], "std": [20.0]},
]


def card(**preprocessing) -> ModelCard:
    return ModelCard.model_validate({"id": "m", "framework": "onnx", "weights": "model.onnx",
                                     "input": {"channels": 3, "size": [8, 8]}, "preprocessing": preprocessing,
                                     "output": {"labels": ["a", "b"]}})


def spec_ops(ops: list[dict], kind: str = "PreprocessingDescr") -> list:
    from bioimageio.spec.model import v0_5

    return TypeAdapter(list[getattr(v0_5, kind)]).validate_python(ops)


@pytest.mark.parametrize("preprocessing", PREPROCESSING)
def test_preprocessing_survives_the_round_trip(preprocessing):
    original = card(**preprocessing)
    ops = spec_ops(processing.preprocessing_ops(original))
    mapped = processing.card_preprocessing(ops, processing.input_dtype(original), 3)
    assert card(**mapped).preprocessing == original.preprocessing


@pytest.mark.parametrize("activation", ["softmax", "sigmoid", "none"])
def test_activation_survives_the_round_trip(activation):
    original = ModelCard.model_validate({**card().model_dump(), "output": {"labels": ["a", "b"],
                                                                          "activation": activation}})
    ops = spec_ops(processing.postprocessing_ops(original), "PostprocessingDescr")
    assert processing.card_activation(ops) == activation


def test_scale_linear_becomes_mean_and_std():
    ops = spec_ops([{"id": "scale_linear", "kwargs": {"gain": [0.5, 0.25, 2.0], "offset": [-1.0, 0.5, 0.0],
                                                      "axis": "channel"}}])
    assert processing.card_preprocessing(ops, "float32", 3) == {"scale": "none", "mean": [2.0, -2.0, 0.0],
                                                                 "std": [2.0, 4.0, 0.5]}


def test_per_channel_scaling_of_colour_images_is_refused():
    ops = spec_ops([{"id": "scale_range", "kwargs": {"axes": ["y", "x"], "max_percentile": 99.0}}])
    assert processing.card_preprocessing(ops, "float32", 1)["scale"] == "percentile"
    with pytest.raises(InvalidArgument, match="as a whole"):
        processing.card_preprocessing(ops, "float32", 3)
