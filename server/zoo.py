"""The model registry: every zoo folder's cards, and the writable store RegisterModel fills.

A card or weights file that cannot be read is recorded as a problem; the other models are
still served. Registration writes into a hidden staging folder, checks the model loads, then renames
it into place, so a crash or a bad upload never leaves a half-written model: the scan skips hidden
folders, and the next start removes staging folders and restores a model an overwrite had retired.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bioclass.errors import AlreadyExists, BioclassError, DataLoss, InvalidArgument, NotFound
from bioclass.server.cards import CARD_FILE, ModelCard, parse_card, read_card
from bioclass.server.batching import BatchPolicy
from bioclass.server.runner import ModelRunner, Runner

log = logging.getLogger(__name__)

# Hidden folders of the store that are never models: an upload being checked, a model being replaced.
STAGING, RETIRED = ".upload-", ".retired-"


@dataclass
class ZooProblem:
    path: str
    reason: str


@dataclass
class ModelZoo:
    zoo_dirs: list[Path]
    store_dir: Path
    threads: int
    batching: BatchPolicy = field(default_factory=BatchPolicy)  # defaults; cards override
    runners: dict[str, Runner] = field(default_factory=dict)
    problems: list[ZooProblem] = field(default_factory=list)
    # How a model is served: its own processes here, or replicas on a Ray cluster (server/ray/).
    make_runner: Callable[[ModelCard, Path], Runner] | None = None

    def _runner(self, card: ModelCard, folder: Path) -> Runner:
        if self.make_runner is not None:
            return self.make_runner(card, folder)
        return ModelRunner(card, folder, self.threads, self.batching)

    def scan(self) -> None:
        """Read every card of every folder (the store last, so uploads never shadow built-ins)."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        recover_store(self.store_dir)
        for root in [*self.zoo_dirs, self.store_dir]:
            if not root.is_dir():
                self.problems.append(ZooProblem(str(root), "zoo folder does not exist"))
                continue
            for folder in sorted(p for p in root.iterdir() if not p.name.startswith(".") and (p / CARD_FILE).is_file()):
                self._add_folder(folder)
        log.info("zoo: %d models, %d problems", len(self.runners), len(self.problems))

    def _add_folder(self, folder: Path) -> None:
        try:
            card = read_card(folder)
            runner = self._runner(card, folder)
        except (BioclassError, OSError, UnicodeDecodeError) as exc:
            self.problems.append(ZooProblem(str(folder / CARD_FILE), str(exc)))
            return
        if card.id in self.runners:
            self.problems.append(ZooProblem(str(folder), f"duplicate model id {card.id} "
                                                         f"(already served from {self.runners[card.id].folder})"))
            return
        self.runners[card.id] = runner

    def get(self, model_id: str) -> Runner:
        runner = self.runners.get(model_id)
        if runner is None:
            known = ", ".join(sorted(self.runners)) or "none"
            raise NotFound(f"unknown model {model_id!r}; served models: {known}")
        return runner

    def select(self, framework: str = "", tags: list[str] | tuple[str, ...] = ()) -> list[Runner]:
        wanted = {t.lower() for t in tags}
        return [r for model_id, r in sorted(self.runners.items())
                if (not framework or r.card.framework == framework)
                and wanted <= {t.lower() for t in r.card.tags}]

    async def register(self, card_yaml: str, weights: bytes, sha256: str, overwrite: bool) -> Runner:
        """Validate, store atomically and serve an uploaded model."""
        card = parse_card(card_yaml, "uploaded card")
        if "/" in card.weights:
            raise InvalidArgument("an uploaded card's weights must be a plain file name")
        digest = hashlib.sha256(weights).hexdigest()
        if sha256 and sha256.lower() != digest:
            raise DataLoss(f"checksum mismatch: received data has sha256 {digest}, header says {sha256}")

        def fill(staging: Path) -> None:
            _write_durably(staging / card.weights, weights)
            _write_durably(staging / CARD_FILE, card_yaml.encode("utf-8"))

        return await self._store(card, fill, overwrite)

    async def register_folder(self, folder: Path, overwrite: bool) -> Runner:
        """Serve a model folder the server wrote itself (a training job's export), copied in atomically."""
        card = read_card(folder)
        return await self._store(card, lambda staging: shutil.copytree(folder, staging, dirs_exist_ok=True),
                                 overwrite)

    async def _store(self, card: ModelCard, fill: Callable[[Path], object], overwrite: bool) -> Runner:
        """Fill a staging folder, prove the model loads from it, then rename it into the store."""
        existing = self.runners.get(card.id)
        if existing is not None and (not overwrite or existing.folder.parent != self.store_dir):
            why = "a built-in or zoo model" if existing.folder.parent != self.store_dir else "use overwrite"
            raise AlreadyExists(f"model {card.id} already exists ({why})")
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING}{card.id}-", dir=self.store_dir))
        try:
            fill(staging)
            candidate = ModelRunner(card, staging, self.threads, self.batching)
            await candidate.ensure_loaded()  # a model that cannot load is refused, not stored
            candidate.close()
            runner = self._install(card, staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if existing is not None:
            existing.close()
        self.runners[card.id] = runner
        return runner

    def _install(self, card: ModelCard, staging: Path) -> Runner:
        target = self.store_dir / card.id
        retired = None
        if target.exists():
            retired = self.store_dir / f"{RETIRED}{card.id}-{os.getpid()}"
            shutil.rmtree(retired, ignore_errors=True)
            os.replace(target, retired)
        os.replace(staging, target)
        _fsync_dir(self.store_dir)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
        return self._runner(card, target)

    def close(self) -> None:
        for runner in self.runners.values():
            runner.close()


def recover_store(store_dir: Path) -> None:
    """Undo what a crash during registration left: staging folders go; a model retired for an overwrite
    whose replacement never arrived goes back in place, so the model served before is served again."""
    for folder in sorted(store_dir.glob(f"{RETIRED}*")):
        target = store_dir / folder.name.removeprefix(RETIRED).rsplit("-", 1)[0]
        if target.exists():
            shutil.rmtree(folder, ignore_errors=True)
        else:
            os.replace(folder, target)
            log.warning("zoo: restored %s, retired by a registration that did not finish", target.name)
    for folder in store_dir.glob(f"{STAGING}*"):
        shutil.rmtree(folder, ignore_errors=True)
    _fsync_dir(store_dir)


def _write_durably(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
