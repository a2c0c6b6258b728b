"""A card's preprocessing and output activation as bioimage.io operations, and back.

bioimage.io tensors arrive at the network's size, so resizing and colour conversion have no
operation: a package exported by bioclass keeps them in `config.bioclass`, and an imported one
gets the card defaults (stretch, colour from the channel count).
"""
from __future__ import annotations

from bioclass.errors import InvalidArgument
from bioclass.server.cards import ModelCard
from bioclass.server.preprocess import ZSCORE_EPS

UINT8_GAIN = 1.0 / 255.0
UINT16_GAIN = 1.0 / 65535.0


# ---- export ------------------------------------------------------------------------------

def input_dtype(card: ModelCard) -> str:
    """The raw tensor type: 8-bit for "range" scaling (the dtype maximum is then 255), float otherwise."""
    return "uint8" if card.preprocessing.scale == "range" else "float32"


def preprocessing_ops(card: ModelCard) -> list[dict]:
    pre = card.preprocessing
    ops: list[dict] = [{"id": "ensure_dtype", "kwargs": {"dtype": "float32"}}]
    joint = ["channel", "y", "x"]  # bioclass scales each image as a whole, all channels together
    if pre.scale == "range":
        ops.append({"id": "scale_linear", "kwargs": {"gain": UINT8_GAIN, "offset": 0.0}})
    elif pre.scale == "minmax":
        ops.append({"id": "scale_range", "kwargs": {"axes": joint, "min_percentile": 0.0, "max_percentile": 100.0}})
    elif pre.scale == "percentile":
        low, high = pre.percentiles
        ops.append({"id": "scale_range", "kwargs": {"axes": joint, "min_percentile": low, "max_percentile": high}})
    elif pre.scale == "zscore":
        ops.append({"id": "zero_mean_unit_variance", "kwargs": {"axes": joint, "eps": ZSCORE_EPS}})
    if pre.mean:
        ops.append(_fixed_mean_std(card))
    # bioimage.io ends preprocessing with a cast to the input's data type (uint8 for "range") unless
    # the list already ends with one: without this the scaled image would reach the network as uint8.
    ops.append({"id": "ensure_dtype", "kwargs": {"dtype": "float32"}})
    return ops


def _fixed_mean_std(card: ModelCard) -> dict:
    pre = card.preprocessing
    if len(pre.mean) == 1:
        return {"id": "fixed_zero_mean_unit_variance", "kwargs": {"mean": pre.mean[0], "std": pre.std[0]}}
    return {"id": "fixed_zero_mean_unit_variance",
            "kwargs": {"mean": list(pre.mean), "std": list(pre.std), "axis": "channel"}}


def postprocessing_ops(card: ModelCard) -> list[dict]:
    activation = card.output.activation
    if activation == "softmax":
        return [{"id": "softmax", "kwargs": {"axis": "channel"}}]
    return [{"id": "sigmoid"}] if activation == "sigmoid" else []


# ---- import ------------------------------------------------------------------------------

def card_preprocessing(ops: list, dtype: str, channels: int) -> dict:
    """The card's `preprocessing` (scale, mean, std) for a package's input operations.

    Accepted, in order: ensure_dtype, then one intensity step (scale_linear, scale_range,
    zero_mean_unit_variance), then fixed_zero_mean_unit_variance or scale_linear as mean/std.
    """
    result: dict = {"scale": "none"}
    steps = [op for op in ops if op.id != "ensure_dtype"]
    if steps and _is_dtype_range(steps[0], dtype):
        result["scale"] = "range"
        steps = steps[1:]
    elif steps and steps[0].id in ("scale_range", "zero_mean_unit_variance"):
        result.update(_per_image_scale(steps[0], channels))
        steps = steps[1:]
    if steps and steps[0].id in ("fixed_zero_mean_unit_variance", "scale_linear"):
        result.update(_mean_std(steps[0]))
        steps = steps[1:]
    if steps:
        raise InvalidArgument(f"input preprocessing {_describe(steps[0])} cannot be expressed in a bioclass card "
                              f"(supported, in order: ensure_dtype, scale_linear, scale_range, "
                              f"zero_mean_unit_variance, fixed_zero_mean_unit_variance)")
    return result


def _is_dtype_range(op, dtype: str) -> bool:
    """scale_linear by 1/255 (1/65535) of an 8-bit (16-bit or float) input: bioclass's "range"."""
    if op.id != "scale_linear" or getattr(op.kwargs, "axis", None) is not None:
        return False
    gain, offset = op.kwargs.gain, op.kwargs.offset
    wanted = UINT16_GAIN if dtype == "uint16" else UINT8_GAIN
    return offset == 0 and abs(gain - wanted) <= 1e-9 and dtype in ("uint8", "uint16", "float32")


def _per_image_scale(op, channels: int) -> dict:
    axes = {str(a) for a in (op.kwargs.axes or ("channel", "y", "x"))} - {"batch"}
    if not {"y", "x"} <= axes or ("channel" not in axes and channels > 1):
        raise InvalidArgument(f"{_describe(op)} over axes {sorted(axes)}: bioclass scales each image as a whole "
                              "(axes channel, y and x together)")
    if op.id == "zero_mean_unit_variance":
        return {"scale": "zscore"}
    low, high = op.kwargs.min_percentile, op.kwargs.max_percentile
    if getattr(op.kwargs, "reference_tensor", None):
        raise InvalidArgument("scale_range with a reference_tensor cannot be expressed in a bioclass card")
    if (low, high) == (0.0, 100.0):
        return {"scale": "minmax"}
    return {"scale": "percentile", "percentiles": [float(low), float(high)]}


def _mean_std(op) -> dict:
    """(x - mean) / std from fixed_zero_mean_unit_variance, or from scale_linear: x * g + o = (x + o/g) / (1/g)."""
    kwargs = op.kwargs
    if op.id == "fixed_zero_mean_unit_variance":
        mean, std = kwargs.mean, kwargs.std
    else:
        gains, offsets = kwargs.gain, kwargs.offset
        gains = gains if isinstance(gains, list) else [gains]
        offsets = offsets if isinstance(offsets, list) else [offsets] * len(gains)
        if any(g <= 0 for g in gains):
            raise InvalidArgument("scale_linear with a gain <= 0 cannot be expressed as a mean and std")
        mean, std = [-o / g for g, o in zip(gains, offsets)], [1.0 / g for g in gains]
    mean, std = (mean if isinstance(mean, list) else [mean]), (std if isinstance(std, list) else [std])
    axis = getattr(kwargs, "axis", None)
    if axis is not None and str(axis) != "channel":
        raise InvalidArgument(f"{_describe(op)} along axis {axis}: bioclass normalises per channel only")
    return {"mean": [float(v) for v in mean], "std": [float(v) for v in std]}


def card_activation(ops: list) -> str:
    """The card's output activation from the package's output postprocessing."""
    if not ops:
        return "none"
    if len(ops) == 1 and ops[0].id == "softmax":
        if str(ops[0].kwargs.axis) != "channel":
            raise InvalidArgument("softmax must run along the class (channel) axis")
        return "softmax"
    if len(ops) == 1 and ops[0].id == "sigmoid":
        return "sigmoid"
    raise InvalidArgument(f"output postprocessing {', '.join(_describe(op) for op in ops)} cannot be expressed "
                          "in a bioclass card (supported: softmax, sigmoid, or none)")


def _describe(op) -> str:
    return str(getattr(op, "id", type(op).__name__))
