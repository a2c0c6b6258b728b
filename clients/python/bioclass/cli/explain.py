"""`bioclass explain`: a saliency map of one image, written as a PNG (heat map over the image, or raw)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def add_explain_commands(command) -> None:
    explain = command("explain", run_explain, "Show where a model looked: a saliency map of one image as a PNG.")
    explain.add_argument("image", metavar="IMAGE", help="image file to explain")
    explain.add_argument("--model", required=True, help="model id")
    explain.add_argument("--class", dest="target", default=None,
                         help="label (or index) to explain (default: the predicted class)")
    explain.add_argument("--method", default="auto", choices=["auto", "gradcam", "occlusion"],
                         help="auto: Grad-CAM for PyTorch and Keras models, occlusion otherwise")
    explain.add_argument("--window", type=int, default=0, help="occlusion window (network-input pixels)")
    explain.add_argument("--stride", type=int, default=0, help="occlusion stride (network-input pixels)")
    explain.add_argument("--out", required=True, help="PNG to write (a .tif with --raw keeps float32 values)")
    explain.add_argument("--raw", action="store_true", help="write the map itself, not the heat map over the image")
    explain.add_argument("--opacity", type=float, default=0.5, help="heat map opacity over the image (0-1)")


def run_explain(args) -> int:
    from bioclass.client import Client

    target = int(args.target) if args.target is not None and args.target.isdigit() else args.target
    with Client(args.server) as client:
        explanation = client.explain(args.image, args.model, target, args.method,
                                     window=args.window, stride=args.stride)
    write_map(Path(args.out), explanation.saliency, None if args.raw else Path(args.image), args.opacity)
    prediction = explanation.prediction
    print(f"{args.image}: predicted {prediction.label} {prediction.probability:.3f}; explained "
          f"{explanation.class_label} with {explanation.method} in {explanation.explain_ms:.0f} ms -> {args.out}")
    return 0


def write_map(out: Path, saliency: np.ndarray, image: Path | None, opacity: float = 0.5) -> None:
    """The raw map (8-bit PNG, or float32 TIFF) or, given the image, the heat map blended over it."""
    from PIL import Image as PILImage

    from bioclass.explanations import overlay

    if image is None:
        if out.suffix.lower() in (".tif", ".tiff"):
            PILImage.fromarray(saliency.astype(np.float32)).save(out)
        else:
            PILImage.fromarray((np.clip(saliency, 0, 1) * 255).round().astype(np.uint8)).save(out)
        return
    from bioclass.images import decode, to_image

    pixels = decode(to_image(image), max_pixels=saliency.size)  # the map has the image's size
    PILImage.fromarray(overlay(pixels, saliency, opacity)).save(out)
