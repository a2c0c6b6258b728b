"""Training from the Python client: `Client(address).training.train("my_dataset/", arch="resnet18")`.

A local dataset folder is zipped into a temporary file and uploaded in chunks with its SHA-256;
a folder already on the server is named with on_server=True.
"""
from __future__ import annotations

import hashlib
import io
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np

from bioclass.errors import InvalidArgument, from_rpc_error
from bioclass.images import ImageSource, to_image
from bioclass.v1 import training_pb2 as pb
from bioclass.v1 import training_pb2_grpc

CHUNK_BYTES = 1024 * 1024
# Architectures every client offers, recommended first; `bioclass train` uses the first when --arch is
# omitted: a compact CNN trained from scratch suits the few labels of a first model, then small
# pretrained networks, then larger ones. Any timm name, torchvision:NAME or bioclass:NAME works too.
ARCHITECTURES = ("bioclass:small_cnn3", "mobilenetv3_small_100", "mobilenetv3_small_050", "efficientnet_b0",
                 "resnet18", "resnet50", "torchvision:squeezenet1_1")
DEFAULT_ARCHITECTURE = ARCHITECTURES[0]
# Queueing a job (training or AutoML) checks the whole dataset on the server first, every image of
# a large folder: a client's usual deadline is too short for that.
QUEUE_CALL_TIMEOUT_S = 600.0
FINISHED = {pb.JOB_SUCCEEDED, pb.JOB_FAILED, pb.JOB_CANCELLED, pb.JOB_INTERRUPTED}


def state_name(state: int) -> str:
    return pb.JobState.Name(state).removeprefix("JOB_").lower()


class TrainingClient:
    """The Training service over an existing channel; failed calls raise BioclassError subclasses."""

    def __init__(self, channel: grpc.Channel, timeout: float | None = 60.0):
        self._stub = training_pb2_grpc.TrainingStub(channel)
        self.timeout = timeout

    # ---- jobs --------------------------------------------------------------------------------

    def train(self, dataset: str | Path, arch: str = DEFAULT_ARCHITECTURE, *, on_server: bool = False,
              dataset_id: str = "",
              labels_csv: str = "", unlabelled_dir: str = "", splits_csv: str = "", group_pattern: str = "",
              augmentation: str | Path = "", image_size: int | tuple[int, int] = 0, **config) -> str:
        """Queue a training job and return its id. `config` takes TrainConfig's fields (epochs=..., ...)."""
        if not dataset_id and not on_server:
            dataset_id = self.upload_dataset(dataset).id
        source = pb.DatasetSource(labels_csv=labels_csv, unlabelled_dir=unlabelled_dir, splits_csv=splits_csv,
                                  group_pattern=group_pattern)
        if dataset_id:
            source.dataset_id = dataset_id
        else:
            source.server_dir = str(dataset)
        height, width = (image_size, image_size) if isinstance(image_size, int) else image_size
        message = pb.TrainConfig(arch=arch, augmentation=_text(augmentation), image_height=height,
                                 image_width=width, **config)
        request = pb.TrainRequest(dataset=source, config=message)
        return self._call(self._stub.Train, request, timeout=queue_timeout(self.timeout)).job_id

    def watch(self, job_id: str) -> Iterator[pb.JobUpdate]:
        """Updates until the job ends."""
        try:
            yield from self._stub.WatchJob(pb.WatchJobRequest(job_id=job_id))
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None

    def wait(self, job_id: str) -> pb.Job:
        """Block until the job ends; returns it with its results."""
        for _ in self.watch(job_id):
            pass
        return self.job(job_id)

    def jobs(self) -> list[pb.Job]:
        return list(self._call(self._stub.ListJobs, pb.ListJobsRequest()).jobs)

    def job(self, job_id: str) -> pb.Job:
        return self._call(self._stub.GetJob, pb.GetJobRequest(job_id=job_id))

    def cancel(self, job_id: str) -> pb.Job:
        return self._call(self._stub.CancelJob, pb.CancelJobRequest(job_id=job_id))

    # ---- datasets ----------------------------------------------------------------------------

    def upload_dataset(self, source: str | Path, name: str = "") -> pb.Dataset:
        """Upload a class-per-folder directory (zipped here) or a .zip / .tar(.gz) archive."""
        path = Path(source)
        if path.is_dir():
            with tempfile.TemporaryFile() as archive:
                zip_folder(path, archive)
                return self.upload_archive(archive, "zip", name or path.name)
        if not path.is_file():
            raise InvalidArgument(f"no such dataset folder or archive: {path}")
        fmt = "zip" if path.suffix.lower() == ".zip" else "tar"
        with open(path, "rb") as archive:
            return self.upload_archive(archive, fmt, name or path.name)

    def upload_archive(self, archive: io.BufferedIOBase, fmt: str, name: str, sha256: str | None = None) -> pb.Dataset:
        """Stream an open archive in chunks; its SHA-256 is computed here unless given."""
        if sha256 is None:
            sha256 = _sha256(archive)

        def requests():
            yield pb.UploadDatasetRequest(header=pb.UploadDatasetHeader(name=name, format=fmt, sha256=sha256))
            archive.seek(0)
            while chunk := archive.read(CHUNK_BYTES):
                yield pb.UploadDatasetRequest(chunk=chunk)

        return self._call(self._stub.UploadDataset, requests(), timeout=None)

    def datasets(self) -> list[pb.Dataset]:
        return list(self._call(self._stub.ListDatasets, pb.ListDatasetsRequest()).datasets)

    # ---- augmentation ------------------------------------------------------------------------

    def preview_augmentation(self, image: ImageSource, augmentation: str | Path, count: int = 4,
                             seed: int = 0) -> list[np.ndarray]:
        """Augmented versions of one image as (H, W, 3) uint8 arrays."""
        from bioclass.images import decode_encoded

        request = pb.PreviewAugmentationRequest(augmentation=_text(augmentation), count=count, seed=seed)
        to_image(image, into=request.image)
        response = self._call(self._stub.PreviewAugmentation, request)
        return [decode_encoded(i.encoded.data, 0, 10 ** 9) for i in response.images]

    def _call(self, method, request, timeout: float | None | str = "default"):
        try:
            return method(request, timeout=self.timeout if timeout == "default" else timeout)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None


def queue_timeout(timeout: float | None) -> float | None:
    """The deadline of a call that queues a job: the client's, but never shorter than QUEUE_CALL_TIMEOUT_S."""
    return None if timeout is None else max(timeout, QUEUE_CALL_TIMEOUT_S)


def zip_folder(folder: Path, out) -> None:
    """Every file under `folder`, paths relative to it; images are stored, not recompressed."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                bundle.write(path, path.relative_to(folder).as_posix())


def _sha256(handle) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    while chunk := handle.read(CHUNK_BYTES):
        digest.update(chunk)
    return digest.hexdigest()


def _text(value: str | Path) -> str:
    """An augmentation given as text or as a path to a JSON/YAML file."""
    if not value:
        return ""
    text = str(value)
    if "\n" not in text and len(text) < 4096 and Path(text).is_file():
        return Path(text).read_text(encoding="utf-8")
    return text
