"""PyTorch models: TorchScript files, or a state_dict with a named timm/torchvision architecture.

Neither form runs code from the file: TorchScript is interpreted by torch.jit, and state_dicts
are read with weights_only=True.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from bioclass.errors import FailedPrecondition
from bioclass.server.cards import ModelCard
from bioclass.server.devices import described, torch_device


class TorchModel:
    def __init__(self, module: torch.nn.Module, device: str = "cpu", note: str = ""):
        self.torch_device = torch.device(device)
        self.module = module.to(self.torch_device).eval()
        self.device = described(device, note)  # what it runs on, and why auto fell back to the CPU

    def forward(self, batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            output = self.module(torch.from_numpy(batch).to(self.torch_device, non_blocking=True))
        if isinstance(output, (tuple, list)):
            output = output[0]
        return output.float().cpu().numpy()

    def gradcam(self, batch: np.ndarray, class_index: int) -> np.ndarray:
        from bioclass.server.explain.torch_gradcam import gradcam

        if self.torch_device.type == "cpu":
            return gradcam(self.module, batch, class_index)
        try:  # Grad-CAM's probes run on the CPU; the network goes back to its device afterwards
            return gradcam(self.module.cpu(), batch, class_index)
        finally:
            self.module.to(self.torch_device)

    def close(self) -> None:
        self.module = None


class Backend:
    def load(self, card: ModelCard, weights: Path, threads: int, onnx_spinning: str = "off") -> TorchModel:
        torch.set_num_threads(threads)
        device, note = torch_device(card.device)
        if card.weight_format == "torchscript":
            return TorchModel(torch.jit.load(str(weights), map_location=device), device, note)
        module = build_architecture(card.architecture, len(card.labels), card.input.channels)
        state = torch.load(str(weights), map_location="cpu", weights_only=True)
        if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
            state = state["state_dict"]
        try:
            module.load_state_dict(state)
        except (RuntimeError, TypeError) as exc:
            raise FailedPrecondition(f"weights do not fit {card.architecture}: {str(exc).splitlines()[0]}") from None
        return TorchModel(module, device, note)


def build_architecture(architecture: str, num_classes: int, in_channels: int) -> torch.nn.Module:
    """An untrained network of a named timm or torchvision architecture."""
    library, name = architecture.split(":", 1)
    try:
        if library == "timm":
            import timm

            return timm.create_model(name, pretrained=False, num_classes=num_classes, in_chans=in_channels)
        import torchvision

        return torchvision.models.get_model(name, weights=None, num_classes=num_classes)
    except (RuntimeError, ValueError, KeyError, ImportError) as exc:
        raise FailedPrecondition(f"unknown architecture {architecture}: {exc}") from None
