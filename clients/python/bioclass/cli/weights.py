"""`bioclass weights pull ARCH` and `bioclass weights import ARCH FILE`: pretrained weights for training.

Both act on this machine's caches (torch hub's, TORCH_HOME; Hugging Face's, HF_HOME), not through a
server: run them on the machine that trains, as the user the server runs as, so that training with
pretrained "auto" finds the weights there.
"""
from __future__ import annotations

import sys
from pathlib import Path


def add_weights_commands(command) -> None:
    weights = command("weights", None, "Pretrained weights in this machine's caches, where training finds them.")
    actions = weights.add_subparsers(dest="action", required=True, metavar="ACTION",
                                     help="pull (download) or import (a local file)")
    pull = actions.add_parser("pull", help="download an architecture's published weights (timm or torchvision)")
    pull.add_argument("arch", metavar="ARCH", help="e.g. resnet18, timm:efficientnet_b0, torchvision:resnet50")
    pull.set_defaults(handler=run_pull)
    imported = actions.add_parser("import", help="put a local weights file (.pth, .safetensors) where training "
                                                 "finds it, e.g. one copied from a machine with internet")
    imported.add_argument("arch", metavar="ARCH")
    imported.add_argument("file", metavar="FILE", type=Path)
    imported.set_defaults(handler=run_import)


def run_pull(args) -> int:
    networks = _networks()
    path = networks.pull(args.arch, lambda line: print(line, file=sys.stderr, flush=True))
    print(f"{args.arch}: pretrained weights in {path}")
    return 0


def run_import(args) -> int:
    path = _networks().import_weights(args.arch, args.file)
    print(f"{args.arch}: imported {args.file} as {path}")
    return 0


def _networks():
    try:
        from bioclass.server.training import networks
    except ImportError as exc:
        raise OSError(f"bioclass weights needs PyTorch and timm on this machine "
                      f"(pip install 'bioclass[pytorch]'): {exc}") from None
    return networks
