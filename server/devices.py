"""Where a network runs: a card's `device` (auto, cpu, cuda, cuda:N) resolved against the CUDA devices the
model's framework sees. Imported inside model, job and trial processes; it imports no framework itself."""
from __future__ import annotations

from bioclass.errors import FailedPrecondition


def resolve(requested: str, cuda_devices: int, seen_by: str) -> tuple[str, str]:
    """('cuda:N' or 'cpu', why auto fell back to the CPU ('' otherwise)).

    `cuda_devices`: how many CUDA devices the framework (named by `seen_by`) sees. An explicit cuda or
    cuda:N it does not see is FAILED_PRECONDITION: a card that asks for a GPU is not quietly served on the CPU.
    """
    if requested == "cpu":
        return "cpu", ""
    if requested == "auto":
        if cuda_devices:
            return "cuda:0", ""
        return "cpu", f"device auto: {seen_by} sees no CUDA device, running on the CPU"
    index = int(requested.partition(":")[2] or 0)
    if index >= cuda_devices:
        raise FailedPrecondition(f"device {requested}: {seen_by} sees {cuda_devices} CUDA device(s)")
    return f"cuda:{index}", ""


def described(device: str, note: str) -> str:
    """What ListModels shows: 'cuda:0', 'cpu', or 'cpu (device auto: ... )'."""
    return f"{device} ({note})" if note else device


def torch_device(requested: str) -> tuple[str, str]:
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return resolve(requested, count, "torch")


def onnx_providers(requested: str) -> tuple[list, str, str]:
    """(providers for ort.InferenceSession, device, note): CUDAExecutionProvider with its device_id before
    the CPU provider when CUDA is wanted and ONNX Runtime has it."""
    import onnxruntime as ort

    has_cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    # ONNX Runtime cannot count devices: an index is trusted, and a device that fails to start shows in
    # the session's providers (onnx_used).
    device, note = resolve(requested, 1_000 if has_cuda else 0, "ONNX Runtime")
    if note:
        note = "device auto: ONNX Runtime has no CUDAExecutionProvider, running on the CPU"
    if device == "cpu":
        return ["CPUExecutionProvider"], device, note
    return [("CUDAExecutionProvider", {"device_id": int(device.partition(":")[2])}), "CPUExecutionProvider"], device, note


def onnx_used(session, device: str, note: str) -> tuple[str, str]:
    """What the session really runs on: ONNX Runtime falls back to the CPU when CUDA fails to start."""
    if device != "cpu" and session.get_providers()[0] != "CUDAExecutionProvider":
        return "cpu", f"CUDAExecutionProvider failed to start for {device}, running on the CPU"
    return device, note


def tensorflow_device(requested: str) -> tuple[str, str]:
    import tensorflow as tf

    return resolve(requested, len(tf.config.list_physical_devices("GPU")), "TensorFlow")
