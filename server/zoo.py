"""The model registry: every zoo folder's cards, and the writable store RegisterModel fills.

A card or weights file that cannot be read is recorded as a problem; the other models are
still served. Registration writes into a hidden staging folder, checks the model loads, then renames
it into place, so a crash or a bad upload never leaves a half-written model: the scan skips hidden
folders, and the next start removes staging folders and restores a model an overwrite had retired.

Versions: a model's first version lives in the folder named by its id, version N >= 2 in `ID@N`
(registered with new_version, which never touches the older folders). `id` alone names the default
version: the one SetDefaultVersion chose (kept in `.defaults/ID`), else the newest whose card says
`default_version: true`, else the newest.
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
from bioclass.server.lifecycle import ModelLifecycle
from bioclass.server.runner import ModelRunner, Runner

log = logging.getLogger(__name__)

# Hidden folders of the store that are never models: an upload being checked, a model being replaced.
STAGING, RETIRED = ".upload-", ".retired-"
DEFAULTS = ".defaults"  # the store's folder of default versions chosen by SetDefaultVersion, one file per id
VERSION_MARK = "@"


def split_version(name: str) -> tuple[str, int | None]:
    """('malaria', 2) for 'malaria@2', ('malaria', None) for 'malaria'; INVALID_ARGUMENT for a bad version."""
    base, mark, version = name.partition(VERSION_MARK)
    if not mark:
        return name, None
    if not (version.isascii() and version.isdigit() and len(version) <= 7) or not 1 <= int(version) <= 1_000_000:
        raise InvalidArgument(f"model {name!r}: a version is a number from 1, as in {base}@2")
    return base, int(version)


def folder_version(folder: Path) -> int:
    """The version a model folder holds: N for ID@N, else 1."""
    try:
        return split_version(folder.name)[1] or 1
    except InvalidArgument:
        return 1


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
    runners: dict[str, Runner] = field(default_factory=dict)  # each model's default version, by id
    versions: dict[str, dict[int, Runner]] = field(default_factory=dict)  # every version, by id and number
    problems: list[ZooProblem] = field(default_factory=list)
    # How a model is served: its own processes here, or replicas on a Ray cluster (server/ray/).
    make_runner: Callable[[ModelCard, Path], Runner] | None = None
    memory_budget_mb: int = 0  # 0: no budget
    lifecycle: ModelLifecycle = field(init=False)

    def __post_init__(self) -> None:
        self.lifecycle = ModelLifecycle(self.memory_budget_mb, self.all_runners)

    def all_runners(self) -> list[Runner]:
        return [runner for versions in list(self.versions.values()) for runner in list(versions.values())]

    def _runner(self, card: ModelCard, folder: Path) -> Runner:
        if self.make_runner is not None:
            runner = self.make_runner(card, folder)
            runner.version = folder_version(folder)
            return runner
        return ModelRunner(card, folder, self.threads, self.batching, self.lifecycle, folder_version(folder))

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
        for model_id in self.versions:
            self._choose_default(model_id)
        log.info("zoo: %d models, %d problems", len(self.runners), len(self.problems))

    def _add_folder(self, folder: Path) -> None:
        try:
            card = read_card(folder)
            runner = self._runner(card, folder)
        except (BioclassError, OSError, UnicodeDecodeError) as exc:
            self.problems.append(ZooProblem(str(folder / CARD_FILE), str(exc)))
            return
        versions = self.versions.setdefault(card.id, {})
        if runner.version in versions:
            self.problems.append(ZooProblem(str(folder), f"duplicate model id {runner.key} (already served "
                                                         f"from {versions[runner.version].folder})"))
            return
        versions[runner.version] = runner

    def _choose_default(self, model_id: str) -> Runner:
        """The default version: SetDefaultVersion's choice, else the newest a card marks, else the newest."""
        versions = self.versions[model_id]
        chosen = _read_default(self.store_dir, model_id)
        if chosen not in versions:
            marked = [n for n, r in versions.items() if r.card.default_version]
            chosen = max(marked or versions)
        self.runners[model_id] = versions[chosen]
        return versions[chosen]

    def get(self, model_id: str) -> Runner:
        """`id` (its default version) or `id@N`."""
        base, version = split_version(model_id)
        versions = self.versions.get(base)
        if versions is None:
            known = ", ".join(sorted(self.runners)) or "none"
            raise NotFound(f"unknown model {base!r}; served models: {known}")
        if version is None:
            return self.runners[base]
        if version not in versions:
            raise NotFound(f"model {base} has no version {version}; its versions: "
                           f"{', '.join(str(n) for n in sorted(versions))}")
        return versions[version]

    def is_default(self, runner: Runner) -> bool:
        return self.runners.get(runner.card.id) is runner

    async def set_default(self, model_id: str, version: int) -> Runner:
        """Make `version` the default of `model_id`, kept across restarts (written atomically)."""
        self.get(f"{model_id}{VERSION_MARK}{version}")  # NOT_FOUND for an unknown version
        _write_default(self.store_dir, model_id, version)
        self._announce(model_id)
        return self.runners[model_id]

    def select(self, framework: str = "", tags: list[str] | tuple[str, ...] = (),
               every_version: bool = False) -> list[Runner]:
        wanted = {t.lower() for t in tags}
        chosen = self.all_runners() if every_version else list(self.runners.values())
        return [r for r in sorted(chosen, key=lambda r: (r.card.id, r.version))
                if (not framework or r.card.framework == framework)
                and wanted <= {t.lower() for t in r.card.tags}]

    async def register(self, card_yaml: str, weights: bytes, sha256: str, overwrite: bool,
                       new_version: bool = False) -> Runner:
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

        return await self._store(card, fill, overwrite, new_version)

    async def register_folder(self, folder: Path, overwrite: bool) -> Runner:
        """Serve a model folder the server wrote itself (a training job's export), copied in atomically."""
        card = read_card(folder)
        return await self._store(card, lambda staging: shutil.copytree(folder, staging, dirs_exist_ok=True),
                                 overwrite)

    async def _store(self, card: ModelCard, fill: Callable[[Path], object], overwrite: bool,
                     new_version: bool = False) -> Runner:
        """Fill a staging folder, prove the model loads from it, then rename it into the store: over the
        default version (overwrite) or beside the others as the next version (new_version)."""
        existing = self.runners.get(card.id)
        if new_version and existing is not None:
            existing, target = None, self.store_dir / f"{card.id}{VERSION_MARK}{max(self.versions[card.id]) + 1}"
        elif existing is not None and (not overwrite or existing.folder.parent != self.store_dir):
            why = ("a built-in or zoo model; use new_version" if existing.folder.parent != self.store_dir
                   else "use overwrite or new_version")
            raise AlreadyExists(f"model {card.id} already exists ({why})")
        else:
            target = existing.folder if existing is not None else self.store_dir / card.id
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING}{card.id}-", dir=self.store_dir))
        try:
            fill(staging)
            await self._check_loads(card, staging)
            runner = self._install(card, staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if existing is not None:
            existing.close()
        self.versions.setdefault(card.id, {})[runner.version] = runner
        self._announce(card.id)
        return runner

    def _announce(self, model_id: str) -> None:
        """Choose the default again and tell the listeners (health) about every version."""
        self._choose_default(model_id)
        for runner in self.versions[model_id].values():
            self.lifecycle.changed(runner)

    async def _check_loads(self, card: ModelCard, staging: Path) -> None:
        """A model that cannot load is refused, not stored; the check's process counts in the budget."""
        candidate = ModelRunner(card, staging, self.threads, self.batching)
        await self.lifecycle.reserve(candidate)
        try:
            await candidate.ensure_loaded()
        finally:
            self.lifecycle.loaded(candidate, 0)
            candidate.close()

    def _install(self, card: ModelCard, staging: Path, target: Path) -> Runner:
        retired = None
        if target.exists():
            retired = self.store_dir / f"{RETIRED}{target.name}-{os.getpid()}"
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


def _read_default(store_dir: Path, model_id: str) -> int | None:
    try:
        return int((store_dir / DEFAULTS / model_id).read_text().strip())
    except (OSError, ValueError):
        return None


def _write_default(store_dir: Path, model_id: str, version: int) -> None:
    folder = store_dir / DEFAULTS
    folder.mkdir(exist_ok=True)
    partial = folder / f".{model_id}.partial"
    _write_durably(partial, f"{version}\n".encode())
    os.replace(partial, folder / model_id)
    _fsync_dir(folder)


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
