"""Images of a job in memory, prepared exactly as the server prepares images for the trained model.

Every network input goes through bioclass.server.preprocess.prepare with the card the model will
be served with; augmentation (when asked) runs on the decoded image before it. Without
augmentation each image is prepared once and kept as a tensor, so epochs cost only the network.
A card that tiles (bioclass.server.tiling) trains on random native-scale crops of each image,
scaled as a whole as served, with flips and quarter turns; its evaluation rows are the served
tiles, aggregated per image as served.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from bioclass.errors import BioclassError
from bioclass.images import decode_encoded, decode_pages
from bioclass.server import tiling
from bioclass.server.cards import ModelCard
from bioclass.server.preprocess import finish, prepare, scaled
from bioclass.server.training import augment

MAX_PIXELS = 50_000_000
MAX_TILES = 4096  # per training image; a 50-Mpx field in 128-px tiles makes about 3,000
SCALED_CACHE_BYTES = 1024 ** 3  # whole scaled images kept for cropping; past it, scaled again per crop


@dataclass
class ImageSet:
    """Decoded images of one split with class indices."""

    names: list[str] = field(default_factory=list)
    pixels: list[np.ndarray] = field(default_factory=list)
    targets: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.names)


def read_image(path: Path, card: ModelCard | None = None) -> np.ndarray:
    """The first page, or (H, W, pages) up to the last page the card reads, as the server decodes them."""
    if card is not None and card.input.pages:
        return decode_pages(path.read_bytes(), max(card.input.pages) + 1, MAX_PIXELS)
    return decode_encoded(path.read_bytes(), 0, MAX_PIXELS)


def load(root: Path, items: list[tuple[str, int]], skipped: list[tuple[str, str]],
         card: ModelCard | None = None) -> ImageSet:
    """Decode every image; an unreadable one is recorded in `skipped` and left out."""
    images = ImageSet()
    for name, target in items:
        try:
            pixels = read_image(root / name, card)
        except (BioclassError, OSError, ValueError) as exc:
            skipped.append((name, str(exc)))
            continue
        if pixels.dtype.kind == "f" and not np.isfinite(pixels).all():  # as Predict refuses such an image
            skipped.append((name, "the image contains NaN or infinite values"))
            continue
        images.names.append(name)
        images.pixels.append(pixels)
        images.targets.append(target)
    return images


STATISTICS_IMAGES = 256  # images (evenly spaced) and pixels per image that estimate the channels' statistics
STATISTICS_PIXELS = 65536


def normalised_card(card: ModelCard, images: ImageSet) -> ModelCard:
    """The card with the mean and std its network is trained and served with.

    8-bit images keep ImageNet's (what pretrained weights saw; natural-looking contrast). Other images
    get the training images' own per-channel mean and std as the card scales them: 16-bit microscopy
    scaled by its range fills a sliver of [0, 1] (Jurkat's brightfield: 0.008-0.015), which ImageNet's
    statistics leave a near-constant input; batch norm then trains on batch statistics and fails on
    its running ones (validation loss in the hundreds, one class predicted)."""
    if not len(images) or all(p.dtype == np.uint8 for p in images.pixels):
        return card
    mean, std = channel_statistics(images, card)
    preprocessing = card.preprocessing.model_copy(update={"mean": mean, "std": std})
    return card.model_copy(update={"preprocessing": preprocessing})


def channel_statistics(images: ImageSet, card: ModelCard) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of the images scaled as the card says (before its normalisation)."""
    picks = np.unique(np.linspace(0, len(images) - 1, min(STATISTICS_IMAGES, len(images))).astype(int))
    total = squares = 0.0
    count = 0
    for index in picks:
        pixels = scaled(images.pixels[index], card).astype(np.float64)
        step = max(1, int(np.sqrt(pixels.shape[0] * pixels.shape[1] / STATISTICS_PIXELS)))
        sample = pixels[::step, ::step].reshape(-1, pixels.shape[-1])
        total, squares, count = total + sample.sum(axis=0), squares + (sample ** 2).sum(axis=0), count + len(sample)
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean ** 2, 0.0))
    return tuple(float(m) for m in mean), tuple(float(max(s, 1e-6)) for s in std)  # a constant channel stays 0


def prepared_tensor(images: ImageSet, card: ModelCard) -> torch.Tensor:
    """(N, C, H, W) float32: every image through the serving preprocessing; N counts tiles when the card tiles."""
    if not len(images):
        channels, (height, width) = card.input.channels, card.input.size
        return torch.zeros((0, channels, height, width))
    return torch.from_numpy(np.concatenate([tiling.network_inputs(p, card, MAX_TILES) for p in images.pixels]))


def row_owners(images: ImageSet, card: ModelCard) -> np.ndarray:
    """The image each row of prepared_tensor comes from."""
    counts = [tiling.count(p.shape, card.tiling) if card.tiling else 1 for p in images.pixels]
    return np.repeat(np.arange(len(images)), counts)


def row_targets(images: ImageSet, card: ModelCard) -> np.ndarray:
    return np.asarray(images.targets, dtype=np.int64)[row_owners(images, card)]


def per_image(probabilities: np.ndarray, images: ImageSet, card: ModelCard) -> np.ndarray:
    """(N images, K) from prepared_tensor's rows' probabilities, aggregated as the server does."""
    if card.tiling is None:
        return probabilities
    owners = row_owners(images, card)
    return np.stack([tiling.aggregate(probabilities[owners == i], card) for i in range(len(images))])


class TrainingImages(torch.utils.data.Dataset):
    """Augmented on the fly when a pipeline is given, else prepared once; random native-scale crops when tiled."""

    def __init__(self, images: ImageSet, card: ModelCard, pipeline=None, seed: int = 0):
        self.images, self.card, self.pipeline = images, card, pipeline
        self.cache = None if pipeline is not None or card.tiling else prepared_tensor(images, card)
        # Tiled: an epoch draws as many crops of an image as it has tiles, so it covers each field once.
        self.owners = row_owners(images, card) if card.tiling else np.arange(len(images))
        self.targets = torch.tensor(images.targets, dtype=torch.long)[torch.from_numpy(self.owners)]
        self.scaled: dict[int, np.ndarray] = {}
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.owners)

    def __getitem__(self, index: int):
        if self.card.tiling is not None:
            return torch.from_numpy(finish(self._random_crop(int(self.owners[index])), self.card)), self.targets[index]
        if self.cache is not None:
            return self.cache[index], self.targets[index]
        pixels = augment.apply(self.pipeline, self.images.pixels[index])
        return torch.from_numpy(prepare(pixels, self.card)), self.targets[index]

    def _random_crop(self, image: int) -> np.ndarray:
        """A tile-sized crop at a random place of the whole scaled image, randomly flipped and turned."""
        whole = self.scaled.get(image)
        if whole is None:
            whole = scaled(self.images.pixels[image], self.card)
            if sum(a.nbytes for a in self.scaled.values()) + whole.nbytes <= SCALED_CACHE_BYTES:
                self.scaled[image] = whole
        tile_h, tile_w = self.card.tiling.size
        y = int(self.rng.integers(0, max(0, whole.shape[0] - tile_h) + 1))
        x = int(self.rng.integers(0, max(0, whole.shape[1] - tile_w) + 1))
        crop = whole[y:y + tile_h, x:x + tile_w]
        if self.rng.random() < 0.5:
            crop = crop[:, ::-1]
        if tile_h == tile_w:
            crop = np.rot90(crop, int(self.rng.integers(0, 4)))
        return np.ascontiguousarray(crop)


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
