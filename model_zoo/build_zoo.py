#!/usr/bin/env python
"""Build bioclass's built-in model zoo from the shared real datasets.

Trains two small CNNs in PyTorch on CPU (a malaria cell classifier and a white blood cell
classifier), exports them (TorchScript, ONNX and, for malaria, a weight-for-weight Keras 3 twin),
checks that the exports agree, copies sample images and writes one card.yaml per model.

    python model_zoo/build_zoo.py [--datasets ../shared/datasets]

Everything is seeded and runs single-process with deterministic algorithms, so a rerun on the
same machine gives the same weights and figures.
"""
from __future__ import annotations

import time

START = time.perf_counter()  # before the heavy imports, so the log shows the whole run

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

# Keras reads its backend when first imported; TF's start-up chatter is noise here.
os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")

# torch (with torch._dynamo, which loads triton's native library when installed) must come before
# tensorflow: the other order segfaults as soon as torch first touches triton (torch 2.14, TF 2.21).
import torch  # noqa: E402  isort: skip
import torch._dynamo  # noqa: E402,F401  isort: skip
import keras  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tensorflow as tf  # noqa: E402
import yaml  # noqa: E402
from PIL import Image  # noqa: E402
from torch import nn  # noqa: E402

ZOO_DIR = Path(__file__).resolve().parent
REPO_ROOT = ZOO_DIR.parent
SEED = 20261126
CREATED = "2026-11-26"  # fixed, so that reruns write identical cards
NUM_THREADS = 2
SPLIT_FRACTIONS = {"train": 0.70, "val": 0.15, "test": 0.15}

MALARIA_LABELS = ["Parasitized", "Uninfected"]
MALARIA_SIZE = (64, 64)  # (height, width); the 50x50 patches are stretched up
MALARIA_WIDTHS = (16, 32, 64, 96)
MALARIA_EPOCHS = 30

WBC_LABELS = ["eosinophil", "lymphocyte", "monocyte", "neutrophil"]
WBC_SIZE = (128, 128)
WBC_WIDTHS = (16, 32, 48, 64, 96)
WBC_EPOCHS = 30

MALARIA_CITATION = (
    "Rajaraman S et al. (2018) Pre-trained convolutional neural networks as feature extractors "
    "toward improved malaria parasite detection in thin blood smear images. PeerJ 6:e4568"
)
BCCD_CITATION = "BCCD Dataset: a small-scale dataset for blood cells detection, https://github.com/Shenggan/BCCD_Dataset"


def log(message: str) -> None:
    print(f"[{time.perf_counter() - START:7.1f}s] {message}", flush=True)


# --------------------------------------------------------------------------- preprocessing


def preprocess(path, size, mean, std, layout="chw") -> np.ndarray:
    """Load one image exactly as the bioclass server does for a card with
    `resize: stretch, color: rgb, scale: range` and the given mean/std.

    size is (height, width); layout "chw" (torch, onnx) or "hwc" (keras). Returns float32.
    """
    height, width = size
    with Image.open(path) as img:
        rgb = np.asarray(img.convert("RGB"), np.float32) / 255.0
    # Resizing each channel as a float image avoids re-quantising to 8 bits.
    channels = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(rgb[:, :, c]), mode="F").resize((width, height), Image.BILINEAR),
            np.float32,
        )
        for c in range(3)
    ]
    x = np.stack(channels, axis=-1)
    x = (x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1) if layout == "chw" else x)


def load_images(paths, size, mean, std) -> np.ndarray:
    return np.stack([preprocess(p, size, mean, std) for p in paths])


def channel_stats(paths, size) -> tuple[list[float], list[float]]:
    """Per-channel mean/std of the [0,1]-scaled training images, rounded so the card holds
    exactly the values the network was trained with."""
    x = load_images(paths, size, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    mean = x.mean(axis=(0, 2, 3), dtype=np.float64)
    std = x.std(axis=(0, 2, 3), dtype=np.float64)
    return [round(float(v), 4) for v in mean], [round(float(v), 4) for v in std]


def augment(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random flips and 90-degree rotations: cells under a microscope have no orientation."""
    out = np.empty_like(batch)
    for i, x in enumerate(batch):
        x = np.rot90(x, k=int(rng.integers(4)), axes=(1, 2))
        if rng.random() < 0.5:
            x = x[:, :, ::-1]
        out[i] = x
    return out


# --------------------------------------------------------------------------- datasets


@dataclass
class Dataset:
    paths: list[Path]
    labels: np.ndarray  # class index per image
    splits: dict[str, np.ndarray]  # split name -> indices into paths

    def subset(self, split: str) -> tuple[list[Path], np.ndarray]:
        idx = self.splits[split]
        return [self.paths[i] for i in idx], self.labels[idx]

    def counts(self) -> dict[str, int]:
        return {name: len(idx) for name, idx in self.splits.items()}


def list_class_folders(root: Path, labels: list[str], pattern: str) -> tuple[list[Path], np.ndarray]:
    paths, targets = [], []
    for index, label in enumerate(labels):
        files = sorted((root / label).glob(pattern))
        if not files:
            raise SystemExit(f"no {pattern} files in {root / label}")
        paths += files
        targets += [index] * len(files)
    return paths, np.asarray(targets)


# Malaria file names carry slide and patient, e.g. "C100P61ThinF" (slide C100, patient P61);
# a few slides carry a letter ("C51AP12"). Uninfected-only slides without a patient number
# ("C12NThinF", "C201ThinF") are treated as a patient of their own.
PATIENT_PATTERN = re.compile(r"C\d+[A-Z]?P(\d+)")
SLIDE_PATTERN = re.compile(r"C(\d+)")


def malaria_group(name: str) -> str:
    patient = PATIENT_PATTERN.search(name)
    if patient:
        return f"P{patient.group(1)}"
    slide = SLIDE_PATTERN.search(name)
    if not slide:
        raise ValueError(f"no slide or patient in malaria file name {name!r}")
    return f"slide-C{slide.group(1)}"


def split_by_group(groups: list[str], labels: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Assign whole groups (patients) to splits, aiming at SPLIT_FRACTIONS of every class.

    Groups go largest first (ties in seeded random order) to the split whose per-class quota
    this group fills best, which keeps class balance close without ever cutting a patient.
    """
    names = sorted(set(groups))
    group_of = np.asarray([names.index(g) for g in groups])
    num_classes = labels.max() + 1
    per_group = np.zeros((len(names), num_classes))
    np.add.at(per_group, (group_of, labels), 1)
    splits = list(SPLIT_FRACTIONS)
    quota = np.outer(list(SPLIT_FRACTIONS.values()), per_group.sum(axis=0))
    filled = np.zeros_like(quota)
    assigned = np.empty(len(names), dtype=int)
    order = rng.permutation(len(names))
    order = order[np.argsort(-per_group[order].sum(axis=1), kind="stable")]
    for g in order:
        room = (quota - filled) / quota  # share of each class quota still open
        assigned[g] = int(np.argmax(room @ per_group[g]))
        filled[assigned[g]] += per_group[g]
    return {name: np.flatnonzero(assigned[group_of] == s) for s, name in enumerate(splits)}


def stratified_split(labels: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    parts: dict[str, list[int]] = {name: [] for name in SPLIT_FRACTIONS}
    for label in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == label))
        n_train = round(SPLIT_FRACTIONS["train"] * len(idx))
        n_val = round(SPLIT_FRACTIONS["val"] * len(idx))
        parts["train"] += idx[:n_train].tolist()
        parts["val"] += idx[n_train : n_train + n_val].tolist()
        parts["test"] += idx[n_train + n_val :].tolist()
    return {name: np.sort(np.asarray(idx)) for name, idx in parts.items()}


def malaria_dataset(root: Path, rng: np.random.Generator) -> Dataset:
    paths, labels = list_class_folders(root / "malaria-cells-50", MALARIA_LABELS, "*.png")
    groups = [malaria_group(p.name) for p in paths]
    dataset = Dataset(paths, labels, split_by_group(groups, labels, rng))
    for name, idx in dataset.splits.items():
        patients = {groups[i] for i in idx}
        log(f"malaria {name}: {len(idx)} images, {len(patients)} patients/slides, "
            f"per class {np.bincount(labels[idx], minlength=2).tolist()}")
    return dataset


def wbc_dataset(root: Path, rng: np.random.Generator) -> Dataset:
    paths, labels = list_class_folders(root / "blood-cells-wbc", WBC_LABELS, "*.jpeg")
    dataset = Dataset(paths, labels, stratified_split(labels, rng))
    log(f"wbc splits: {dataset.counts()}")
    return dataset


# --------------------------------------------------------------------------- model and training


class SmallCNN(nn.Module):
    """Conv(3x3, no bias) -> BatchNorm -> ReLU -> MaxPool(2) blocks, global average pool, linear.

    Only layers with an exact Keras counterpart, so the Keras twin can reuse the weights.
    """

    def __init__(self, num_classes: int, widths: tuple[int, ...]):
        super().__init__()
        blocks, in_channels = [], 3
        for width in widths:
            blocks += [
                nn.Conv2d(in_channels, width, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
            in_channels = width
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Linear(in_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean(dim=(2, 3)))


def predict_torch(model: nn.Module, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(x[i : i + batch_size])).numpy()
                               for i in range(0, len(x), batch_size)])


def classification_metrics(logits: np.ndarray, labels: np.ndarray, num_classes: int) -> dict[str, float]:
    predicted = logits.argmax(axis=1)
    f1_scores = []
    for c in range(num_classes):
        tp = np.sum((predicted == c) & (labels == c))
        fp = np.sum((predicted == c) & (labels != c))
        fn = np.sum((predicted != c) & (labels == c))
        f1_scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return {"accuracy": round(float(np.mean(predicted == labels)), 4),
            "f1_macro": round(float(np.mean(f1_scores)), 4)}


def train(model, x_train, y_train, x_val, y_val, epochs, rng, batch_size=32, lr=2e-3) -> dict:
    """Adam with cosine decay for a fixed number of epochs; keep the weights of the epoch
    with the best validation macro F1 (the test split is never looked at here)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    num_classes = int(y_train.max()) + 1
    best = {"f1_macro": -1.0}
    for epoch in range(1, epochs + 1):
        model.train()
        order = rng.permutation(len(x_train))
        losses = []
        # Drop the last partial batch: a batch of one would break BatchNorm statistics.
        for start in range(0, len(order) - batch_size + 1, batch_size):
            idx = order[start : start + batch_size]
            inputs = torch.from_numpy(augment(x_train[idx], rng))
            loss = loss_fn(model(inputs), torch.from_numpy(y_train[idx]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        schedule.step()
        val = classification_metrics(predict_torch(model, x_val), y_val, num_classes)
        log(f"  epoch {epoch:2d}/{epochs} loss {np.mean(losses):.4f} val acc {val['accuracy']:.4f} f1 {val['f1_macro']:.4f}")
        if val["f1_macro"] > best["f1_macro"]:
            best = {**val, "epoch": epoch, "state": {k: v.clone() for k, v in model.state_dict().items()}}
    model.load_state_dict(best.pop("state"))
    model.eval()
    log(f"  kept epoch {best['epoch']} (val acc {best['accuracy']:.4f}, f1 {best['f1_macro']:.4f})")
    return best


def fit_classifier(dataset: Dataset, size, widths, epochs, rng):
    """Normalise with training-split statistics, train, return model, mean/std and test data."""
    train_paths, y_train = dataset.subset("train")
    mean, std = channel_stats(train_paths, size)
    log(f"  mean {mean} std {std}")
    x_train = load_images(train_paths, size, mean, std)
    val_paths, y_val = dataset.subset("val")
    x_val = load_images(val_paths, size, mean, std)
    test_paths, y_test = dataset.subset("test")
    x_test = load_images(test_paths, size, mean, std)
    model = SmallCNN(len(np.unique(dataset.labels)), widths)
    log(f"  {sum(p.numel() for p in model.parameters())} parameters")
    validation = train(model, x_train, y_train.astype(np.int64), x_val, y_val, epochs, rng)
    return model, mean, std, validation, (x_test, y_test)


# --------------------------------------------------------------------------- exports


def export_torchscript(model: nn.Module, size, path: Path) -> None:
    example = torch.zeros(1, 3, *size)
    with torch.no_grad():
        traced = torch.jit.trace(model.eval(), example)
    traced.save(str(path))


def export_onnx(model: nn.Module, size, path: Path) -> None:
    # The TorchScript-based exporter gives a compact single-file graph at the requested opset.
    example = torch.zeros(1, 3, *size)
    torch.onnx.export(
        model.eval(), (example,), str(path), dynamo=False, opset_version=17,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
    )
    onnx.checker.check_model(onnx.load(str(path)))


def keras_twin(model: SmallCNN, size) -> keras.Model:
    """The same network in Keras 3 (channels_last), carrying the PyTorch weights."""
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    norms = [m for m in model.features if isinstance(m, nn.BatchNorm2d)]
    inputs = keras.Input(shape=(*size, 3), name="input")
    x = inputs
    for i, (conv, norm) in enumerate(zip(convs, norms)):
        # "same" equals PyTorch padding=1 for a 3x3 kernel at stride 1.
        x = keras.layers.Conv2D(conv.out_channels, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = keras.layers.BatchNormalization(epsilon=norm.eps, name=f"bn{i}")(x)
        x = keras.layers.ReLU(name=f"relu{i}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(model.classifier.out_features, name="logits")(x)
    twin = keras.Model(inputs, outputs, name="malaria_cnn")

    def numpy_of(t: torch.Tensor) -> np.ndarray:
        return t.detach().numpy().astype(np.float32)

    for i, (conv, norm) in enumerate(zip(convs, norms)):
        twin.get_layer(f"conv{i}").set_weights([numpy_of(conv.weight).transpose(2, 3, 1, 0)])  # OIHW -> HWIO
        twin.get_layer(f"bn{i}").set_weights(
            [numpy_of(norm.weight), numpy_of(norm.bias), numpy_of(norm.running_mean), numpy_of(norm.running_var)])
    twin.get_layer("logits").set_weights([numpy_of(model.classifier.weight).T, numpy_of(model.classifier.bias)])
    return twin


def export_keras(model: SmallCNN, size, path: Path) -> None:
    keras_twin(model, size).save(str(path))


# --------------------------------------------------------------------------- running exports


def run_torchscript(path: Path, x_chw: np.ndarray) -> np.ndarray:
    return predict_torch(torch.jit.load(str(path)), x_chw)


def run_onnx(path: Path, x_chw: np.ndarray) -> np.ndarray:
    options = ort.SessionOptions()
    options.intra_op_num_threads = NUM_THREADS
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(["logits"], {"input": x_chw})[0]


def run_keras(path: Path, x_chw: np.ndarray, batch_size: int = 256) -> np.ndarray:
    model = keras.models.load_model(str(path), safe_mode=True, compile=False)
    x_hwc = x_chw.transpose(0, 2, 3, 1)
    # Calling the model directly skips predict()'s tf.data pipeline, which only adds log noise here.
    return np.concatenate([np.asarray(model(x_hwc[i : i + batch_size], training=False))
                           for i in range(0, len(x_hwc), batch_size)])


def compare_exports(outputs: dict[str, np.ndarray], what: str) -> dict:
    """Max |logit difference| and top-1 agreement for every pair of runtimes; any top-1
    disagreement stops the build."""
    report = {}
    for (name_a, logits_a), (name_b, logits_b) in itertools.combinations(outputs.items(), 2):
        diff = float(np.abs(logits_a - logits_b).max())
        agree = float(np.mean(logits_a.argmax(axis=1) == logits_b.argmax(axis=1)))
        report[f"{name_a} vs {name_b}"] = {"max_abs_logit_diff": diff, "top1_agreement": agree}
        log(f"  {what}: {name_a} vs {name_b}: max |logit diff| {diff:.2e}, top-1 agreement {agree:.4f}")
    disagreeing = [pair for pair, result in report.items() if result["top1_agreement"] != 1.0]
    if disagreeing:
        raise SystemExit(f"exports disagree on {what}: {disagreeing}")
    return report


# --------------------------------------------------------------------------- cards


def write_card(folder: Path, *, name, description, framework, weights, fmt, tags, size, mean, std,
               labels, training_data, metrics, license_, citation) -> None:
    axes = "bhwc" if framework == "keras" else "bchw"
    input_spec = {"axes": axes, "channels": 3, "size": list(size), "dtype": "float32"}
    if framework == "onnx":
        input_spec["tensor_name"] = "input"
    card = {
        "id": folder.name,
        "name": name,
        "description": description,
        "framework": framework,
        "weights": weights,
        "format": fmt,
        "tags": tags,
        "input": input_spec,
        "preprocessing": {"resize": "stretch", "color": "rgb", "scale": "range", "mean": mean, "std": std},
        "output": {"labels": labels, "activation": "softmax"},
        "provenance": {
            "training_data": training_data,
            "metrics": {"test_accuracy": metrics["accuracy"], "test_f1_macro": metrics["f1_macro"]},
            "license": license_,
            "citation": citation,
            "authors": ["bioclass project"],
            "created": CREATED,
        },
    }
    with open(folder / "card.yaml", "w") as f:
        yaml.safe_dump(card, f, sort_keys=False, default_flow_style=None, width=110)


def fresh_folder(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


# --------------------------------------------------------------------------- samples


def copy_samples(dataset: Dataset, labels: list[str], per_class: int, folder: Path, rng, group_of=None) -> list[Path]:
    """Copy a few random test-split files unchanged, named <class>_<original name>.

    With group_of (file name -> patient), every sample comes from a different patient.
    """
    test_paths, test_labels = dataset.subset("test")
    used_groups, copied = set(), []
    for index, label in enumerate(labels):
        candidates = [p for p, y in zip(test_paths, test_labels) if y == index]
        picks = []
        for pick in rng.permutation(len(candidates)):
            group = group_of(candidates[pick].name) if group_of else candidates[pick]
            if group not in used_groups:
                used_groups.add(group)
                picks.append(candidates[pick])
            if len(picks) == per_class:
                break
        for source in sorted(picks):
            target = folder / f"{label}_{source.name}"
            shutil.copyfile(source, target)
            copied.append(target)
    return copied


def brightest_crops(image: np.ndarray, size: int, count: int) -> list[np.ndarray]:
    """The `count` non-overlapping grid crops with the highest mean intensity (most nuclei)."""
    rows, cols = image.shape[0] // size, image.shape[1] // size
    crops = [image[r * size : (r + 1) * size, c * size : (c + 1) * size] for r in range(rows) for c in range(cols)]
    crops.sort(key=lambda crop: -float(crop.mean()))
    return crops[:count]


def write_tiff_samples(source_dir: Path, folder: Path) -> dict[str, str]:
    """A single-page and a 3-page 16-bit grayscale TIFF cut from the IICBU DAPI images."""
    sources = sorted(source_dir.glob("*.tif"))
    first = np.asarray(Image.open(sources[0]))
    if first.dtype != np.uint16:
        raise SystemExit(f"{sources[0]} is not 16-bit")
    single = folder / "dapi_crop_256_uint16.tif"
    Image.fromarray(brightest_crops(first, 256, 1)[0]).save(single)
    pages = brightest_crops(first, 256, 2) + brightest_crops(np.asarray(Image.open(sources[-1])), 256, 1)
    multi = folder / "dapi_3pages_256_uint16.tif"
    frames = [Image.fromarray(np.ascontiguousarray(p)) for p in pages]
    frames[0].save(multi, save_all=True, append_images=frames[1:])
    with Image.open(multi) as check:
        assert check.n_frames == 3 and check.mode == "I;16", (check.n_frames, check.mode)
    return {single.name: f"brightest 256x256 grid crop of {sources[0].name}",
            multi.name: f"pages 1-2: two brightest crops of {sources[0].name}; page 3: brightest crop of {sources[-1].name}"}


def write_samples_readme(folder: Path, malaria_files, wbc_files, tiff_notes: dict[str, str]) -> None:
    def listing(files):
        return "\n".join(f"- `{f.parent.name}/{f.name}`" for f in files)

    tiffs = "\n".join(f"- `tiff16/{name}`: {note}" for name, note in tiff_notes.items())
    text = f"""# Sample images

Real images for trying out the built-in models and the server's image decoding. Written by
`model_zoo/build_zoo.py`; copied unchanged from `shared/datasets/` (see its README.md), except the
TIFFs, which are crops. Malaria and WBC samples come from the TEST split of the built-in models,
so the models never saw them in training. File names are `<class>_<original file name>`.

## malaria/ (50x50 RGB PNG)

NIH/NLM malaria cell images (Rajaraman et al., PeerJ 2018, doi:10.7717/peerj.4568), thin blood
smear cell patches, resized to 50x50 in the public repository madhava20217/Malaria-Detection-from-Cells.
The NLM released the data set for free public use (U.S. government work, public domain); cite the paper.

{listing(malaria_files)}

## wbc/ (320x240 RGB JPEG)

White blood cell images derived from the BCCD data set (Shenggan/BCCD_Dataset, MIT license), via the
public repository dhruvp/wbc-classification (its augmented TEST split). The datasets README states no
license for the derived repository; check its terms before redistributing beyond this project.

{listing(wbc_files)}

## tiff16/ (16-bit grayscale TIFF, mode I;16)

Crops of IICBU-2008 "Binucleate" DAPI microscopy images (Shamir et al., Med Biol Eng Comput 2008),
via the public repository dcurrier/wnd-chrm_Vagrant; a freely available benchmark from the NIH/NIA
image informatics group. Pixel values are the original 16-bit camera counts.

{tiffs}
"""
    (folder / "README.md").write_text(text)


# --------------------------------------------------------------------------- main steps


def build_malaria(datasets: Path, rng) -> dict:
    log("malaria: splitting by patient")
    dataset = malaria_dataset(datasets, rng)
    model, mean, std, validation, (x_test, y_test) = fit_classifier(
        dataset, MALARIA_SIZE, MALARIA_WIDTHS, MALARIA_EPOCHS, rng)
    metrics = classification_metrics(predict_torch(model, x_test), y_test, 2)
    log(f"malaria test: {metrics}")

    folders = {fw: fresh_folder(ZOO_DIR / f"malaria-cnn-{fw}") for fw in ("pytorch", "onnx", "keras")}
    weights = {"pytorch": folders["pytorch"] / "model.pt", "onnx": folders["onnx"] / "model.onnx",
               "keras": folders["keras"] / "model.keras"}
    export_torchscript(model, MALARIA_SIZE, weights["pytorch"])
    export_onnx(model, MALARIA_SIZE, weights["onnx"])
    export_keras(model, MALARIA_SIZE, weights["keras"])

    sample_dir = fresh_folder(ZOO_DIR / "samples" / "malaria")
    samples = copy_samples(dataset, MALARIA_LABELS, 4, sample_dir, rng, group_of=malaria_group)
    # The samples are re-read through preprocess() from their copied files, as a client would send them.
    x_samples = load_images(samples, MALARIA_SIZE, mean, std)
    agreement = {}
    for what, x in (("test split", x_test), ("samples", x_samples)):
        outputs = {"pytorch-eager": predict_torch(model, x),
                   "torchscript": run_torchscript(weights["pytorch"], x),
                   "onnx": run_onnx(weights["onnx"], x),
                   "keras": run_keras(weights["keras"], x)}
        agreement[what] = compare_exports(outputs, what)
    sample_predictions = {p.name: MALARIA_LABELS[i] for p, i in zip(samples, predict_torch(model, x_samples).argmax(1))}

    counts = dataset.counts()
    training_data = (
        "malaria-cells-50 (NIH/NLM malaria cell images, Rajaraman et al., PeerJ 2018), split by patient: "
        f"{counts['train']} train / {counts['val']} val / {counts['test']} test images")
    names = {"pytorch": "PyTorch, TorchScript", "onnx": "ONNX", "keras": "Keras"}
    formats = {"pytorch": "torchscript", "onnx": "onnx", "keras": "keras"}
    for fw, folder in folders.items():
        write_card(
            folder, name=f"Malaria cell classifier ({names[fw]})",
            description=(
                f"Classifies a single thin-blood-smear red cell patch as Parasitized or Uninfected; "
                f"RGB input stretched to {MALARIA_SIZE[0]}x{MALARIA_SIZE[1]}. Small CNN trained from scratch in PyTorch "
                f"on NIH malaria cell images split by patient"
                + (", weights copied layer by layer into Keras." if fw == "keras" else ".")),
            framework=fw, weights=weights[fw].name, fmt=formats[fw],
            tags=["malaria", "blood-smear", "cells", "builtin"], size=MALARIA_SIZE, mean=mean, std=std,
            labels=MALARIA_LABELS, training_data=training_data, metrics=metrics,
            license_="CC-BY-4.0 (weights); training data: NIH/NLM malaria cell images, public domain (U.S. government work)",
            citation=MALARIA_CITATION)
    return {"splits": counts, "validation": validation, "test": metrics, "mean": mean, "std": std,
            "export_agreement": agreement, "sample_predictions": sample_predictions}


def build_wbc(datasets: Path, rng) -> dict:
    log("wbc: stratified split")
    dataset = wbc_dataset(datasets, rng)
    model, mean, std, validation, (x_test, y_test) = fit_classifier(dataset, WBC_SIZE, WBC_WIDTHS, WBC_EPOCHS, rng)
    metrics = classification_metrics(predict_torch(model, x_test), y_test, 4)
    log(f"wbc test: {metrics} (optimistic: augmented near-duplicates cross the splits)")

    folders = {fw: fresh_folder(ZOO_DIR / f"wbc-cnn-{fw}") for fw in ("pytorch", "onnx")}
    weights = {"pytorch": folders["pytorch"] / "model.pt", "onnx": folders["onnx"] / "model.onnx"}
    export_torchscript(model, WBC_SIZE, weights["pytorch"])
    export_onnx(model, WBC_SIZE, weights["onnx"])

    sample_dir = fresh_folder(ZOO_DIR / "samples" / "wbc")
    samples = copy_samples(dataset, WBC_LABELS, 2, sample_dir, rng)
    x_samples = load_images(samples, WBC_SIZE, mean, std)
    agreement = {}
    for what, x in (("test split", x_test), ("samples", x_samples)):
        outputs = {"pytorch-eager": predict_torch(model, x),
                   "torchscript": run_torchscript(weights["pytorch"], x),
                   "onnx": run_onnx(weights["onnx"], x)}
        agreement[what] = compare_exports(outputs, what)
    sample_predictions = {p.name: WBC_LABELS[i] for p, i in zip(samples, predict_torch(model, x_samples).argmax(1))}

    counts = dataset.counts()
    training_data = (
        "blood-cells-wbc (BCCD-derived white blood cell images via dhruvp/wbc-classification, augmented), "
        f"stratified random split: {counts['train']} train / {counts['val']} val / {counts['test']} test images; "
        "augmented near-duplicates cross the splits, so the test figures are optimistic")
    names = {"pytorch": "PyTorch, TorchScript", "onnx": "ONNX"}
    formats = {"pytorch": "torchscript", "onnx": "onnx"}
    for fw, folder in folders.items():
        write_card(
            folder, name=f"White blood cell type classifier ({names[fw]})",
            description=(
                "Classifies a stained blood smear image centred on one white blood cell as eosinophil, "
                f"lymphocyte, monocyte or neutrophil; RGB input stretched to {WBC_SIZE[0]}x{WBC_SIZE[1]}. "
                "Small CNN trained from scratch in PyTorch on a few hundred BCCD-derived images: a demo model, "
                "not a validated one."),
            framework=fw, weights=weights[fw].name, fmt=formats[fw],
            tags=["white-blood-cells", "blood-smear", "cells", "builtin"], size=WBC_SIZE, mean=mean, std=std,
            labels=WBC_LABELS, training_data=training_data, metrics=metrics,
            license_="CC-BY-4.0 (weights); training data: BCCD dataset, MIT license",
            citation=BCCD_CITATION)
    return {"splits": counts, "validation": validation, "test": metrics, "mean": mean, "std": std,
            "export_agreement": agreement, "sample_predictions": sample_predictions}


def seed_everything() -> np.random.Generator:
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(NUM_THREADS)
    keras.utils.set_random_seed(SEED)
    tf.config.threading.set_intra_op_parallelism_threads(NUM_THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    return np.random.default_rng(SEED)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=Path, default=REPO_ROOT.parent / "shared" / "datasets",
                        help="folder holding malaria-cells-50/, blood-cells-wbc/, tiff16-samples/ "
                             "(default: ../shared/datasets relative to the repository root)")
    args = parser.parse_args()
    datasets = args.datasets.resolve()
    rng = seed_everything()

    # Each model draws from its own generator so changing one does not reshuffle the other.
    malaria_rng, wbc_rng = (np.random.default_rng(s) for s in rng.integers(2**31, size=2))
    report = {"malaria": build_malaria(datasets, malaria_rng)}
    report["wbc"] = build_wbc(datasets, wbc_rng)

    tiff_notes = write_tiff_samples(datasets / "tiff16-samples", fresh_folder(ZOO_DIR / "samples" / "tiff16"))
    samples_dir = ZOO_DIR / "samples"
    write_samples_readme(samples_dir, sorted((samples_dir / "malaria").iterdir()),
                         sorted((samples_dir / "wbc").iterdir()), tiff_notes)

    (ZOO_DIR / "build_report.json").write_text(json.dumps(report, indent=2) + "\n")
    for path in sorted(ZOO_DIR.glob("*/model.*")):
        log(f"{path.relative_to(ZOO_DIR)}: {path.stat().st_size / 1024:.1f} KiB")
    log("done")


if __name__ == "__main__":
    main()
