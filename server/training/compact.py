"""Compact CNNs that learn from a few dozen labelled images, from scratch (bioclass:NAME).

ImageNet architectures need pretrained weights: trained from scratch on 50 images of 32-64 px,
MobileNetV3 and ResNet stayed near chance on held-out patients of malaria-cells-50 (their stems
shrink a 32 px image to 1x1 and their BatchNorm statistics come from 40 images), while these plain
conv/BatchNorm/ReLU/max-pool stacks (the built-in zoo's design) reached 0.84-0.88 on the same
labels. Only layers every export target knows (TorchScript, ONNX, int8, Keras) are used.
"""
from __future__ import annotations

import torch
from torch import nn

# name -> channels of each conv block (every block halves the image).
WIDTHS = {"small_cnn3": (16, 32, 64), "small_cnn4": (16, 32, 64, 128)}


class SmallCNN(nn.Module):
    """Conv 3x3 (no bias) -> BatchNorm -> ReLU -> MaxPool(2) blocks, global average pool, linear."""

    def __init__(self, num_classes: int, widths: tuple[int, ...] = WIDTHS["small_cnn3"], in_chans: int = 3):
        super().__init__()
        blocks, channels = [], in_chans
        for width in widths:
            blocks += [nn.Conv2d(channels, width, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(width),
                       nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            channels = width
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean(dim=(2, 3)))

    def get_classifier(self) -> nn.Module:
        return self.classifier


def names() -> list[str]:
    return sorted(WIDTHS)


def create_model(name: str, num_classes: int, in_chans: int = 3) -> SmallCNN:
    """KeyError for an unknown name."""
    return SmallCNN(num_classes, WIDTHS[name], in_chans)
