"""int8 quantization of a compact CNN's ONNX export: the fp32-stem variants and the choice by measurement.

A small_cnn4 (the malaria AutoML runs' pick) is fitted in a few seconds to 32 malaria cells at 32 px
(so its predictions are confident, not ties), then exported and quantized for real; no mocks.
"""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from PIL import Image

from automl_support import CLASSES, MALARIA
from bioclass.server.automl import quantize
from bioclass.server.training import compact, export

SIZE = 32


def _images(start: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = [], []
    for label, name in enumerate(CLASSES):
        for path in sorted((MALARIA / name).iterdir())[start:start + count]:
            image = Image.open(path).convert("RGB").resize((SIZE, SIZE))
            x.append(np.asarray(image, np.float32).transpose(2, 0, 1) / 255)
            y.append(label)
    return np.stack(x), np.asarray(y)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(fp32 ONNX path, its training images, their labels, held-out images)."""
    torch.manual_seed(0)
    train_x, train_y = _images(0, 16)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # on two shared cores one thread trains this tiny network fastest
    try:
        network = _fitted(train_x, train_y)
    finally:
        torch.set_num_threads(threads)
    path = tmp_path_factory.mktemp("quantize") / "model.onnx"
    export.onnx(network, torch.from_numpy(train_x[:1]), path)
    return path, train_x, train_y, _images(600, 32)[0]


def _fitted(x: np.ndarray, y: np.ndarray) -> torch.nn.Module:
    """small_cnn4 fitted to (x, y) in 40 full-batch steps, its BatchNorm statistics then taken from x
    (the running averages of so few steps are far from them, and eval mode would predict one class)."""
    network = compact.create_model("small_cnn4", len(CLASSES))
    optimiser = torch.optim.Adam(network.parameters(), lr=3e-3)
    inputs, targets = torch.from_numpy(x), torch.from_numpy(y)
    network.train()
    for _ in range(40):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(network(inputs), targets).backward()
        optimiser.step()
    for module in network.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # a plain average over what follows
    with torch.no_grad():
        network(inputs)
    return network.eval()


def _run(path, x: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def test_the_stem_rewrite_keeps_the_fp32_outputs(trained, tmp_path):
    """ReLU and MaxPool swap places in the stem: the same function, and the stem's names are returned."""
    fp32, _, _, held_x = trained
    target = tmp_path / "stem.onnx"
    excluded = export.keep_stem_fp32(fp32, target)
    ops = [n.op_type for n in onnx.load(str(target)).graph.node]
    assert ops[:3] == ["Conv", "MaxPool", "Relu"]
    assert len(excluded) == 3 and excluded[0] == onnx.load(str(fp32)).graph.node[0].name
    np.testing.assert_allclose(_run(target, held_x), _run(fp32, held_x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fmt", ["QOperator", "QDQ"])
def test_an_fp32_stem_variant_is_int8_after_its_first_convolution(trained, tmp_path, fmt):
    fp32, calibration, _, held_x = trained
    int8 = tmp_path / "int8.onnx"
    export.quantize_int8(fp32, int8, calibration, fmt, per_channel=False, float_stem=True)
    graph = onnx.load(str(int8)).graph
    float_convs = [n for n in graph.node if n.op_type == "Conv" and n.input[0] == graph.input[0].name]
    int8_weights = [t for t in graph.initializer if t.data_type == onnx.TensorProto.INT8 and len(t.dims) == 4]
    assert len(float_convs) == 1  # only the stem is fp32
    assert len(int8_weights) == 3  # the other three convolutions' weights are int8
    assert fp32.stat().st_size / int8.stat().st_size > 3.4
    agreement = (_run(int8, held_x).argmax(1) == _run(fp32, held_x).argmax(1)).mean()
    assert agreement >= 0.95


def test_the_chosen_variant_is_int8_and_within_a_point_of_fp32(trained, tmp_path):
    """Accuracy on the training images: the network fits them (so a point lost is a real flip), while
    32 held-out cells are too few for it to generalise."""
    fp32, train_x, train_y, _ = trained
    baseline, measured = quantize.measure_candidates(fp32, tmp_path, train_x, train_x, train_y, threads=1)
    assert baseline["accuracy"] > 0.9
    assert not [m for m in measured if "error" in m]
    assert {m["variant"] for m in measured} == {v.label for v in quantize.CANDIDATES}
    chosen = quantize.fastest(baseline, measured)
    assert chosen["accuracy"] >= baseline["accuracy"] - quantize.MAX_ACCURACY_LOSS
    chosen_graph = onnx.load(str(tmp_path / f"int8-{chosen['index']}.onnx")).graph
    assert any(t.data_type == onnx.TensorProto.INT8 for t in chosen_graph.initializer)
    assert chosen["size_bytes"] < baseline["size_bytes"] / 3


def test_a_model_without_a_convolution_on_its_input_has_no_fp32_stem_variant(tmp_path):
    network = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * SIZE * SIZE, 2))
    fp32 = tmp_path / "mlp.onnx"
    export.onnx(network, torch.zeros(1, 3, SIZE, SIZE), fp32)
    with pytest.raises(ValueError, match="no named convolution"):
        export.keep_stem_fp32(fp32, tmp_path / "stem.onnx")
