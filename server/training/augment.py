"""Declarative augmentation in the manner of CLoDSA, built on albumentations.

A configuration is a JSON or YAML list of techniques, each a mapping with `technique`, an optional
probability `p` and the technique's parameters (albumentations' names), e.g.

    - {technique: flip_horizontal, p: 0.5}
    - {technique: rotate, limit: 20}
    - {technique: gaussian_noise, std_range: [0.02, 0.08], p: 0.3}

Techniques run before the model's preprocessing, on uint8 RGB images (H, W, 3) for 8-bit sources and
on the source's own channels as float32 for 16-bit and float ones (`apply`), so the network sees
augmented images exactly as served images are prepared. Parameters are checked when the job is
queued, not when it has been running for an hour.
"""
from __future__ import annotations

import inspect
import json
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from bioclass.errors import InvalidArgument

# Our technique name -> (albumentations class, defaults). CLoDSA's list, one entry each.
TECHNIQUES: dict[str, tuple[str, dict]] = {
    "flip_horizontal": ("HorizontalFlip", {}),
    "flip_vertical": ("VerticalFlip", {}),
    "rotate": ("Rotate", {"limit": 30}),
    "translate": ("Affine", {"translate_percent": [-0.1, 0.1]}),
    "shear": ("Affine", {"shear": [-15, 15]}),
    "affine": ("Affine", {}),
    "crop": ("RandomCrop", {}),
    "random_resized_crop": ("RandomResizedCrop", {"scale": [0.7, 1.0]}),
    "resize": ("Resize", {}),
    "elastic": ("ElasticTransform", {"alpha": 30, "sigma": 5}),
    "gaussian_blur": ("GaussianBlur", {"blur_limit": [3, 5]}),
    "average_blur": ("Blur", {"blur_limit": [3, 5]}),
    "median_blur": ("MedianBlur", {"blur_limit": [3, 5]}),
    "gaussian_noise": ("GaussNoise", {"std_range": [0.02, 0.1]}),
    "salt_and_pepper": ("SaltAndPepper", {"amount": [0.01, 0.04]}),
    "dropout": ("PixelDropout", {"dropout_prob": 0.02}),
    "coarse_dropout": ("CoarseDropout", {}),
    "gamma": ("RandomGamma", {}),
    "brightness_contrast": ("RandomBrightnessContrast", {}),
    "hue_saturation": ("HueSaturationValue", {"val_shift_limit": 0}),
    "equalize": ("Equalize", {}),
    "invert": ("InvertImg", {}),
    "sharpen": ("Sharpen", {}),
    "channel_shift": ("RGBShift", {}),
    "channel_shuffle": ("ChannelShuffle", {}),
}
DEFAULT_P = 0.5


def parse(text: str) -> list[dict]:
    """The technique list from JSON or YAML text (a list, or a mapping with `techniques`)."""
    if not text.strip():
        return []
    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidArgument(f"augmentation: neither JSON nor YAML: {' '.join(str(exc).split())}") from None
    if isinstance(data, dict):
        data = data.get("techniques", data.get("augmentation_techniques"))
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise InvalidArgument("augmentation must be a list of {technique: NAME, p: PROBABILITY, ...parameters}")
    return data


def build(text: str, seed: int | None = None):
    """An albumentations pipeline for the configuration; None when it lists nothing."""
    steps = parse(text)
    if not steps:
        return None
    albumentations = _albumentations()
    transforms = [_technique(albumentations, i, dict(step)) for i, step in enumerate(steps)]
    return albumentations.Compose(transforms, seed=seed)


def _technique(albumentations, index: int, step: dict):
    name = str(step.pop("technique", step.pop("name", "")))
    if name not in TECHNIQUES:
        raise InvalidArgument(f"augmentation #{index + 1}: unknown technique {name!r}; "
                              f"known: {', '.join(sorted(TECHNIQUES))}")
    class_name, defaults = TECHNIQUES[name]
    cls = getattr(albumentations, class_name)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "args", "kwargs"}
    unknown = sorted(set(step) - accepted)
    if unknown:
        raise InvalidArgument(f"augmentation #{index + 1} ({name}): unknown parameter(s) {', '.join(unknown)}; "
                              f"accepted: {', '.join(sorted(accepted))}")
    parameters = {"p": DEFAULT_P, **defaults, **step}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in parameters.items()})
    except (TypeError, ValueError) as exc:  # albumentations validates with pydantic (a ValueError)
        first = str(exc).strip().splitlines()
        raise InvalidArgument(f"augmentation #{index + 1} ({name}): {' '.join(first[:3])}") from None


@lru_cache(maxsize=1)
def _albumentations():
    import os

    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # never reach the network
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import albumentations

    return albumentations


def to_uint8_rgb(pixels: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 from a decoded image of any dtype and channel count, for the techniques."""
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    pixels = pixels[..., :3]
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    if pixels.dtype == np.uint8:
        return np.ascontiguousarray(pixels)
    maximum = 65535.0 if pixels.dtype == np.uint16 else max(float(pixels.max()), 1e-12)
    return np.clip(pixels.astype(np.float32) / maximum * 255.0 + 0.5, 0, 255).astype(np.uint8)


def apply(pipeline, pixels: np.ndarray) -> np.ndarray:
    """The augmented image. 8-bit images run as uint8 RGB, as before; any other image keeps its dtype,
    channels (pages) and intensity scale: it runs as float32 in [0, 1] of its dtype's range
    (albumentations' float convention) and is converted back, so the card's preprocessing scales it as
    it scales a served image. (As uint8 RGB a 16-bit brightfield page of values 500-1000 became three
    grey levels, and range scaling then saw it 257 times brighter than the validation images.)"""
    if pixels.dtype == np.uint8:
        return pipeline(image=to_uint8_rgb(pixels))["image"]
    try:
        return in_unit_range(pixels, lambda unit: pipeline(image=unit)["image"])
    except (TypeError, ValueError) as exc:  # e.g. a colour technique on a two-page image
        channels = 1 if pixels.ndim == 2 else pixels.shape[2]
        raise InvalidArgument(f"augmentation cannot run on {channels}-channel {pixels.dtype} images: "
                              f"{' '.join(str(exc).split())}") from None


def in_unit_range(pixels: np.ndarray, change) -> np.ndarray:
    """change(float32 image in [0, 1] of the dtype's range), back in the image's dtype and range."""
    if np.issubdtype(pixels.dtype, np.integer):
        maximum = float(np.iinfo(pixels.dtype).max)
    else:  # float images are finite (data.load skips the others)
        maximum = max(float(np.abs(pixels).max(initial=0.0)), 1e-12)
    changed = change(pixels.astype(np.float32) / np.float32(maximum)) * maximum
    if np.issubdtype(pixels.dtype, np.integer):
        return np.clip(np.rint(changed), 0, maximum).astype(pixels.dtype)
    return changed.astype(pixels.dtype, copy=False)


def preview(text: str, pixels: np.ndarray, count: int, seed: int) -> list[np.ndarray]:
    """Augmented versions as uint8 RGB, for display."""
    pipeline = build(text, seed=seed)
    if pipeline is None:
        raise InvalidArgument("the augmentation lists no technique")
    return [to_uint8_rgb(apply(pipeline, pixels)) for _ in range(count)]


def write_folder(text: str, sources: list[tuple[Path, str]], target: Path, copies: int, seed: int,
                 read) -> int:
    """CLoDSA's folder mode: `copies` augmented versions of each image, written as TARGET/<class>/:
    8-bit images as PNG, any other as a TIFF with one page per channel in the source's dtype."""
    import tifffile
    from PIL import Image as PILImage

    pipeline = build(text, seed=seed)
    written = 0
    for path, label in sources:
        pixels = read(path)
        (target / label).mkdir(parents=True, exist_ok=True)
        for copy in range(copies):
            augmented = apply(pipeline, pixels)
            name = target / label / f"{path.stem}_aug{copy}"
            if augmented.dtype == np.uint8:
                PILImage.fromarray(augmented).save(name.with_suffix(".png"))
            else:
                planes = augmented if augmented.ndim == 2 else np.moveaxis(augmented, 2, 0)
                tifffile.imwrite(name.with_suffix(".tif"), planes, photometric="minisblack")
            written += 1
    return written
