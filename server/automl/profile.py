"""What a dataset holds, read before an AutoML search: sizes, bit depth, pages, classes, duplicates.

Runs in the run's helper process (it decodes images). Every file is hashed, so exact duplicates
are all found; sizes, bit depth and pages come from at most PROFILED_IMAGES files spread evenly
over the set, so a very large set is profiled in seconds.
"""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from bioclass.errors import BioclassError
from bioclass.images import count_pages, decode_encoded
from bioclass.server.training import datasets
from bioclass.server.training.config import DatasetSpec

PROFILED_IMAGES = 2000
MAX_PIXELS = 50_000_000
DUPLICATE_EXAMPLES = 5
_BITS = {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16, np.dtype(np.float32): 32}


def profile_dataset(root: str, spec: dict) -> dict:
    """The labelled images' profile as plain values (stored with the run, encoded as DatasetProfile)."""
    samples, _ = datasets.resolve_samples(Path(root), DatasetSpec.model_validate(spec))
    counts = Counter(s.label for s in samples)
    sampled = samples[:: max(1, -(-len(samples) // PROFILED_IMAGES))]
    shapes = [_read_shape(Path(root) / s.path) for s in sampled]
    shapes = [s for s in shapes if s is not None]
    duplicates, across, examples = _duplicates(Path(root), samples)
    return {
        "images": len(samples), "classes": [{"label": k, "images": counts[k]} for k in sorted(counts)],
        "imbalance_ratio": max(counts.values()) / min(counts.values()),
        "heights": _spread([s[0] for s in shapes]), "widths": _spread([s[1] for s in shapes]),
        "bit_depths": sorted({s[2] for s in shapes}), "channels": sorted({s[3] for s in shapes}),
        "pages": sorted({s[4] for s in shapes}), "profiled_images": len(shapes),
        "duplicate_images": duplicates, "duplicates_across_classes": across, "duplicate_examples": examples,
    }


def _read_shape(path: Path) -> tuple[int, int, int, int, int] | None:
    """(height, width, bits, channels, pages) of one image; None when it cannot be read."""
    try:
        pixels = decode_encoded(path.read_bytes(), 0, MAX_PIXELS)
        pages = count_pages(path)
    except (BioclassError, OSError, ValueError):
        return None
    channels = pixels.shape[2] if pixels.ndim == 3 else 1
    return pixels.shape[0], pixels.shape[1], _BITS.get(pixels.dtype, 8 * pixels.dtype.itemsize), channels, pages


def _spread(values: list[int]) -> dict:
    if not values:
        return {"min": 0, "median": 0, "max": 0}
    return {"min": int(min(values)), "median": int(np.median(values)), "max": int(max(values))}


def _duplicates(root: Path, samples: list[datasets.Sample]) -> tuple[int, int, list[str]]:
    """Images whose bytes equal an earlier image's, those of them under another class, and a few examples."""
    groups: dict[str, list[datasets.Sample]] = defaultdict(list)
    for sample in samples:
        try:
            groups[hashlib.blake2b((root / sample.path).read_bytes(), digest_size=16).hexdigest()].append(sample)
        except OSError:
            continue
    repeated = [g for g in groups.values() if len(g) > 1]
    across = sum(sum(1 for s in g[1:] if s.label != g[0].label) for g in repeated)
    examples = [" = ".join(s.path for s in g) for g in repeated[:DUPLICATE_EXAMPLES]]
    return sum(len(g) - 1 for g in repeated), across, examples


def describe(profile: dict) -> list[str]:
    """The profile as log lines, what the user reads first."""
    h, w = profile["heights"], profile["widths"]
    classes = ", ".join(f"{c['label']} {c['images']}" for c in profile["classes"])
    lines = [
        f"dataset: {profile['images']} images in {len(profile['classes'])} classes ({classes}); "
        f"imbalance {profile['imbalance_ratio']:.1f}:1 (largest to smallest class)",
        f"dataset: sizes (h x w) min {h['min']}x{w['min']}, median {h['median']}x{w['median']}, "
        f"max {h['max']}x{w['max']}; {_listed(profile['bit_depths'])}-bit; {_listed(profile['channels'])} channel(s); "
        f"{_listed(profile['pages'])} page(s) per file"
        + (f" (read {profile['profiled_images']} of them)" if profile["profiled_images"] < profile["images"] else ""),
    ]
    if profile["duplicate_images"]:
        lines.append(f"dataset: {profile['duplicate_images']} exact duplicate(s), "
                     f"{profile['duplicates_across_classes']} of them under another class; e.g. "
                     + "; ".join(profile["duplicate_examples"][:2]))
    else:
        lines.append("dataset: no exact duplicates")
    return lines


def _listed(values: list[int]) -> str:
    return "/".join(map(str, values)) or "?"
