"""Grad-CAM for PyTorch networks, run inside the model's process.

Eager modules (state_dict architectures) get a forward hook on their last Conv2d. ScriptModules
refuse hooks, so their inlined graph is copied with the last convolution's output added to what
it returns; autograd then differentiates the class score with respect to that output.
"""
from __future__ import annotations

import numpy as np
import torch

from bioclass.errors import FailedPrecondition

_CONV_KINDS = ("aten::_convolution", "aten::conv2d")


def gradcam(module: torch.nn.Module, batch: np.ndarray, class_index: int) -> np.ndarray:
    """Class activation maps (B, h, w) at the last convolution's resolution, not normalised."""
    with torch.enable_grad():
        logits, features = forward_with_features(module, torch.from_numpy(batch))
        score = class_score(logits, class_index)
        (gradients,) = torch.autograd.grad(score, features)
    weights = gradients.mean(dim=(2, 3), keepdim=True)  # one importance per feature channel
    return torch.relu((weights * features.detach()).sum(dim=1)).numpy().astype(np.float32)


def class_score(logits: torch.Tensor, class_index: int) -> torch.Tensor:
    """The summed score of one class; a single sigmoid output scores class 1 (and its negation class 0)."""
    if logits.shape[1] == 1:
        return logits[:, 0].sum() * (1.0 if class_index == 1 else -1.0)
    return logits[:, class_index].sum()


def forward_with_features(module: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(module, torch.jit.ScriptModule):
        logits, features = _scripted_probe(module)(module._c, x)
    else:
        logits, features = _hooked_forward(module, x)
    if isinstance(logits, (tuple, list)):
        logits = logits[0]
    if features.dim() != 4:
        raise FailedPrecondition("the last convolution's output is not a (B, C, H, W) feature map")
    return logits, features


def _hooked_forward(module: torch.nn.Module, x: torch.Tensor):
    convs = [m for m in module.modules() if isinstance(m, torch.nn.Conv2d)]
    if not convs:
        raise FailedPrecondition("the network has no Conv2d layer; Grad-CAM needs one (use occlusion)")
    captured: list[torch.Tensor] = []
    handle = convs[-1].register_forward_hook(lambda _module, _inputs, output: captured.append(output))
    try:
        logits = module(x)
    finally:
        handle.remove()
    return logits, captured[-1]


_PROBES: dict[int, object] = {}


def _scripted_probe(module: torch.jit.ScriptModule):
    """A function of (module, x) returning (the module's output, the last convolution's output)."""
    key = id(module)
    if key not in _PROBES:
        graph = module.inlined_graph
        convs = [node for node in graph.nodes() if node.kind() in _CONV_KINDS]
        if not convs:
            raise FailedPrecondition("the TorchScript graph has no convolution; Grad-CAM needs one (use occlusion)")
        feature = convs[-1].output()
        returned = graph.return_node()
        original = returned.inputsAt(0)
        pair = graph.create("prim::TupleConstruct", [original, feature])
        pair.insertBefore(returned)
        pair.output().setType(torch._C.TupleType([original.type(), feature.type()]))
        returned.replaceInput(0, pair.output())
        _PROBES[key] = torch._C._create_function_from_graph("bioclass_gradcam_probe", graph)
    return _PROBES[key]
