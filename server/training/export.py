"""Export a trained network: TorchScript, ONNX, optionally int8 ONNX, and the card that serves it.

Each exported file is measured on the held-out images (accuracy, size, milliseconds per image
with a batch of one), so the int8 model is chosen knowingly rather than blindly.
"""
from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import torch
import yaml

from bioclass.server.cards import CARD_FILE, parse_card

TIMED_IMAGES = 32
# The timed images run in rounds and the fastest round counts: on a shared CPU a burst of other
# work inflates one round, not the comparison (int8 variants differ by a few percent).
TIMED_ROUNDS = 4


def torchscript(network: torch.nn.Module, example: torch.Tensor, path: Path) -> None:
    network.eval()
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(network, example[:1])
    traced.save(str(path))


def onnx(network: torch.nn.Module, example: torch.Tensor, path: Path) -> None:
    network.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(network, (example[:1],), str(path), input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, dynamo=False)


def quantize_int8(fp32: Path, int8: Path, calibration: np.ndarray, fmt: str = "QDQ", per_channel: bool = True,
                  reduce_range: bool = False, float_stem: bool = False) -> None:
    """Static int8 quantization calibrated on training images (convolutions need activations' ranges);
    `fmt` is "QDQ" or "QOperator". `float_stem` keeps the convolution on the image in fp32 (see
    `keep_stem_fp32`); a graph without one raises ValueError."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{"input": calibration[i:i + 1]} for i in range(len(calibration))])

        def get_next(self):
            return next(self.batches, None)

    prepared = int8.with_suffix(".pre.onnx")
    try:
        quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
        source = prepared
    except Exception:  # noqa: BLE001 - pre-processing is an optimisation; quantize the raw graph instead
        source = fp32
    stem_file = int8.with_suffix(".stem.onnx")
    try:
        excluded = keep_stem_fp32(source, stem_file) if float_stem else []
        quantize_static(str(stem_file if float_stem else source), str(int8), Reader(),
                        quant_format=getattr(QuantFormat, fmt),
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=per_channel,
                        reduce_range=reduce_range, nodes_to_exclude=excluded)
    finally:
        prepared.unlink(missing_ok=True)
        stem_file.unlink(missing_ok=True)


def keep_stem_fp32(source: Path, target: Path) -> list[str]:
    """Write `source` with its stem (the Conv on the image, its BatchNorm/ReLU and a MaxPool after them)
    ready to stay fp32, and return those nodes' names for quantize_static's nodes_to_exclude.

    With 3 input channels the int8 convolution is slow in ONNX Runtime 1.32 on this CPU (58-77 us against
    23 us in fp32 for the 48 px compact CNN; bench/README.md, int8). A ReLU followed by MaxPool is
    swapped (max commutes with ReLU): the quantizer then puts the Quantize after the ReLU, which ONNX
    Runtime's QDQ propagation cannot move back over the MaxPool; moved, the MaxPool ran on uint8 in
    NCHW at 47 us instead of 4 us in fp32 NCHWc.
    """
    import onnx

    model = onnx.load(str(source))
    chain = _stem_chain(model.graph)
    names = [node.name for node in chain]
    if [node.op_type for node in chain[-2:]] == ["Relu", "MaxPool"]:
        _swap_relu_and_pool(model.graph, *chain[-2:])
    onnx.save(model, str(target))
    return names


def _stem_chain(graph) -> list:
    """The first Conv fed by a graph input, then BatchNormalization, Relu and MaxPool, as far as each is
    the only reader of the previous node's output (which is not a graph output either)."""
    inputs = {i.name for i in graph.input} - {t.name for t in graph.initializer}
    outputs = {o.name for o in graph.output}
    conv = next((n for n in graph.node if n.op_type == "Conv" and n.input[0] in inputs), None)
    if conv is None or not conv.name:
        raise ValueError("no named convolution on the model's input")
    chain = [conv]
    for op_type in ("BatchNormalization", "Relu", "MaxPool"):
        users = [n for n in graph.node if chain[-1].output[0] in n.input]
        if (len(users) == 1 and users[0].op_type == op_type and users[0].name
                and chain[-1].output[0] not in outputs):
            chain.append(users[0])
    return chain


def _swap_relu_and_pool(graph, relu, pool) -> None:
    """x -> Relu -> r -> MaxPool -> y  becomes  x -> MaxPool -> r_pooled -> Relu -> y."""
    x, r, y = relu.input[0], relu.output[0], pool.output[0]
    pool.input[0], pool.output[0] = x, f"{r}_pooled"
    relu.input[0], relu.output[0] = f"{r}_pooled", y
    nodes = list(graph.node)
    i, j = nodes.index(relu), nodes.index(pool)
    nodes[i], nodes[j] = nodes[j], nodes[i]
    del graph.node[:]
    graph.node.extend(nodes)
    kept = [v for v in graph.value_info if v.name != r]  # r's recorded shape is the unpooled one
    del graph.value_info[:]
    graph.value_info.extend(kept)


def measure(forward, x: np.ndarray, y: np.ndarray, path: Path, fmt: str) -> dict:
    """Accuracy on (x, y), file size, and ms per image for a batch of one (the fastest round)."""
    timed = x[:TIMED_IMAGES]
    for _ in range(3):  # TorchScript optimises a graph over its first calls; time the steady state
        forward(timed[:1])
    ms = min((ms_per_image(forward, part) for part in np.array_split(timed, TIMED_ROUNDS) if len(part)),
             default=0.0)
    return {**scored(forward, x, y, path, fmt), "ms_per_image": ms}


def scored(forward, x: np.ndarray, y: np.ndarray, path: Path, fmt: str) -> dict:
    """Accuracy on (x, y) and file size, untimed."""
    logits = np.concatenate([forward(x[i:i + 64]) for i in range(0, len(x), 64)]) if len(x) else np.zeros((0, 1))
    accuracy = float((logits.argmax(1) == y).mean()) if len(y) else float("nan")
    return {"format": fmt, "file": path.name, "size_bytes": path.stat().st_size, "accuracy": accuracy}


def ms_per_image(forward, images: np.ndarray) -> float:
    started = time.perf_counter()
    for i in range(len(images)):
        forward(images[i:i + 1])
    return (time.perf_counter() - started) * 1000 / len(images)


def torch_forward(path: Path):
    module = torch.jit.load(str(path), map_location="cpu").eval()

    def forward(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return module(torch.from_numpy(batch)).numpy()

    return forward


def onnx_forward(path: Path, threads: int, optimization: str = "ORT_ENABLE_ALL"):
    """A forward function on ONNX Runtime set up exactly as the server's ONNX backend sets it up."""
    import onnxruntime

    from bioclass.server.backends.onnx import session_options

    session = onnxruntime.InferenceSession(str(path), session_options(threads, optimization),
                                           providers=["CPUExecutionProvider"])
    return lambda batch: session.run(None, {"input": batch})[0]


def write_card(folder: Path, card_data: dict) -> None:
    """card.yaml, validated with the zoo's own schema before it is written."""
    text = yaml.safe_dump(card_data, sort_keys=False)
    parse_card(text, "trained model card")
    (folder / CARD_FILE).write_text(text, encoding="utf-8")
