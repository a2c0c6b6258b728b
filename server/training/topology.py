"""Topological pseudo-labelling for two classes (homological annotation, Inés et al. 2022).

Each class's labelled images form a point cloud in the teacher's feature space. An unlabelled
image joins the class whose persistence diagrams (H0 and H1, Vietoris-Rips) it changes least,
measured by the bottleneck distance; its confidence is the other class's share of the two
changes, so 0.5 is a tie and 1.0 means it left one class's shape untouched.
"""
from __future__ import annotations

import numpy as np
import torch

from bioclass.errors import InvalidArgument
from bioclass.server.training import pseudo
from bioclass.server.training import data

POINTS_PER_CLASS = 40  # ripser's cost grows fast with the cloud; a sample keeps the shape


def features(network: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    """Penultimate features (timm's pre-logits), else the logits; standardized per dimension."""
    network.eval()
    with torch.inference_mode():
        chunks = []
        for i in range(0, len(x), 128):
            batch = x[i:i + 128]
            if hasattr(network, "forward_head"):
                chunks.append(network.forward_head(network.forward_features(batch), pre_logits=True))
            else:
                chunks.append(network(batch))
    values = torch.cat(chunks).flatten(1).numpy().astype(np.float64)
    return (values - values.mean(0)) / (values.std(0) + 1e-6)


def _diagrams(points: np.ndarray) -> list[np.ndarray]:
    from ripser import ripser

    found = ripser(points, maxdim=1)["dgms"]
    return [d[np.isfinite(d).all(1)] if len(d) else d for d in found]


def _change(base: list[np.ndarray], cloud: np.ndarray, point: np.ndarray) -> float:
    from persim import bottleneck

    grown = _diagrams(np.vstack([cloud, point[None]]))
    return sum(bottleneck(b, g) if len(b) or len(g) else 0.0 for b, g in zip(base, grown))


def select(teacher, pool: pseudo.Pool, train: data.ImageSet, card, labels: list[str], threshold: float,
           seed: int = 0) -> tuple[list[tuple[int, int]], dict]:
    if len(labels) != 2:
        raise InvalidArgument("topological pseudo-labelling is for two classes only")
    everything = features(teacher, torch.cat([data.prepared_tensor(train, card),
                                              data.prepared_tensor(pool.images, card)]))
    labelled, unlabelled = everything[:len(train)], everything[len(train):]
    rng = np.random.default_rng(seed)
    targets = np.asarray(train.targets)
    clouds = [labelled[rng.permutation(np.flatnonzero(targets == c))[:POINTS_PER_CLASS]] for c in (0, 1)]
    bases = [_diagrams(cloud) for cloud in clouds]
    confidence = np.zeros((len(unlabelled), 2))
    for i, point in enumerate(unlabelled):
        changes = np.array([_change(bases[c], clouds[c], point) for c in (0, 1)])
        confidence[i] = changes[::-1] / max(changes.sum(), 1e-12)  # less change, more confidence
    return pseudo.select(confidence, threshold, labels, pool)
