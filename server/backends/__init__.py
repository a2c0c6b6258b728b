"""Framework backends, imported only when a model of that framework is first used.

Adding a framework: write one module with a `Backend` class (see base.py) and add one line here.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from dataclasses import dataclass

from bioclass.errors import FailedPrecondition
from bioclass.server.backends.base import Backend, LoadedModel


@dataclass(frozen=True)
class FrameworkInfo:
    name: str
    module: str
    package: str  # the distribution whose presence makes the backend available
    import_name: str
    formats: tuple[str, ...]

    @property
    def available(self) -> bool:
        return importlib.util.find_spec(self.import_name) is not None

    @property
    def version(self) -> str:
        try:
            return importlib.metadata.version(self.package)
        except importlib.metadata.PackageNotFoundError:
            return ""


FRAMEWORKS = {
    "pytorch": FrameworkInfo("pytorch", "bioclass.server.backends.pytorch", "torch", "torch",
                             ("torchscript", "state_dict")),
    "keras": FrameworkInfo("keras", "bioclass.server.backends.keras", "keras", "keras", ("keras", "h5", "savedmodel")),
    "onnx": FrameworkInfo("onnx", "bioclass.server.backends.onnx", "onnxruntime", "onnxruntime", ("onnx",)),
    "classical": FrameworkInfo("classical", "bioclass.server.backends.classical", "mahotas", "mahotas", ("onnx",)),
}

_loaded: dict[str, Backend] = {}


def get_backend(framework: str) -> Backend:
    """The backend object of a framework, importing its module on first use."""
    if framework not in _loaded:
        info = FRAMEWORKS[framework]
        if not info.available:
            raise FailedPrecondition(f"framework {framework} is not installed on the server "
                                     f"(pip install 'bioclass[{framework}]')")
        _loaded[framework] = importlib.import_module(info.module).Backend()
    return _loaded[framework]


__all__ = ["FRAMEWORKS", "Backend", "FrameworkInfo", "LoadedModel", "get_backend"]
