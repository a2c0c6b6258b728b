"""Images of a job in memory, prepared exactly as the server prepares images for the trained model.

Every network input goes through bioclass.server.preprocess.prepare with the card the model will
be served with; augmentation (when asked) runs on the decoded image before it. Without
augmentation each image is prepared once and kept as a tensor, so epochs cost only the network.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from bioclass.errors import BioclassError
from bioclass.images import decode_encoded
from bioclass.server.cards import ModelCard
from bioclass.server.preprocess import prepare
from bioclass.server.training import augment

MAX_PIXELS = 50_000_000


@dataclass
class ImageSet:
    """Decoded images of one split with class indices."""

    names: list[str] = field(default_factory=list)
    pixels: list[np.ndarray] = field(default_factory=list)
    targets: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.names)


def read_image(path: Path) -> np.ndarray:
    return decode_encoded(path.read_bytes(), 0, MAX_PIXELS)


def load(root: Path, items: list[tuple[str, int]], skipped: list[tuple[str, str]]) -> ImageSet:
    """Decode every image; an unreadable one is recorded in `skipped` and left out."""
    images = ImageSet()
    for name, target in items:
        try:
            pixels = read_image(root / name)
        except (BioclassError, OSError, ValueError) as exc:
            skipped.append((name, str(exc)))
            continue
        images.names.append(name)
        images.pixels.append(pixels)
        images.targets.append(target)
    return images


def prepared_tensor(images: ImageSet, card: ModelCard) -> torch.Tensor:
    """(N, C, H, W) float32: every image through the serving preprocessing."""
    if not len(images):
        channels, (height, width) = card.input.channels, card.input.size
        return torch.zeros((0, channels, height, width))
    return torch.from_numpy(np.stack([prepare(p, card) for p in images.pixels]))


class TrainingImages(torch.utils.data.Dataset):
    """Augmented on the fly when a pipeline is given, else prepared once."""

    def __init__(self, images: ImageSet, card: ModelCard, pipeline=None):
        self.images, self.card, self.pipeline = images, card, pipeline
        self.cache = None if pipeline is not None else prepared_tensor(images, card)
        self.targets = torch.tensor(images.targets, dtype=torch.long)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        if self.cache is not None:
            return self.cache[index], self.targets[index]
        pixels = augment.apply(self.pipeline, self.images.pixels[index])
        return torch.from_numpy(prepare(pixels, self.card)), self.targets[index]


def class_weights(targets: list[int], classes: int) -> torch.Tensor:
    """Inverse class frequency, mean 1: the loss weight that balances the classes."""
    counts = np.bincount(np.asarray(targets, dtype=np.int64), minlength=classes).astype(np.float64)
    weights = np.where(counts > 0, len(targets) / (classes * np.maximum(counts, 1)), 0.0)
    return torch.tensor(weights, dtype=torch.float32)


def loader(dataset: TrainingImages, batch_size: int, seed: int, imbalance: str, classes: int):
    generator = torch.Generator().manual_seed(seed)
    sampler = None
    if imbalance == "sampler":
        per_sample = class_weights(dataset.images.targets, classes)[dataset.targets]
        sampler = torch.utils.data.WeightedRandomSampler(per_sample.double(), len(dataset), generator=generator)
    # Batches of one break batch norm; drop a last batch of one image.
    drop_last = len(dataset) % batch_size == 1 and len(dataset) > batch_size
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=sampler is None, sampler=sampler,
                                       generator=generator, drop_last=drop_last, num_workers=0)
