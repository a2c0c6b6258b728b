"""PNG plots of a job's results: the confusion matrix and the training curves."""
from __future__ import annotations

import io
import math

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display in a server process
    import matplotlib.pyplot as plt

    return plt


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(figure)
    return buffer.getvalue()


def confusion_png(confusion: np.ndarray, labels: list[str], title: str) -> bytes:
    plt = _pyplot()
    size = max(4.0, 0.6 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(confusion, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    threshold = confusion.max() / 2 if confusion.size else 0
    for (row, column), count in np.ndenumerate(confusion):
        axes.text(column, row, str(count), ha="center", va="center",
                  color="white" if count > threshold else "black")
    return _png(figure)


def curves_png(history: list[dict]) -> bytes:
    plt = _pyplot()
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    x = list(range(1, len(history) + 1))
    loss_axes.plot(x, [h["train_loss"] for h in history], marker="o", label="train")
    loss_axes.plot(x, [_nan(h["val_loss"]) for h in history], marker="o", label="validation")
    loss_axes.set_xlabel("epoch (all stages)")
    loss_axes.set_ylabel("loss")
    loss_axes.legend()
    accuracy_axes.plot(x, [_nan(h["val_accuracy"]) for h in history], marker="o", color="tab:green")
    accuracy_axes.set_xlabel("epoch (all stages)")
    accuracy_axes.set_ylabel("validation accuracy")
    accuracy_axes.set_ylim(0, 1)
    for axes in (loss_axes, accuracy_axes):
        for i, h in enumerate(history):
            if i and h["stage"] != history[i - 1]["stage"]:
                axes.axvline(i + 0.5, color="grey", linestyle=":")
    return _png(figure)


def _nan(value) -> float:
    return math.nan if value is None else value
