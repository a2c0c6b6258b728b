from bioclass.v1 import image_pb2 as _image_pb2
from bioclass.v1 import classifier_pb2 as _classifier_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_QUEUED: _ClassVar[JobState]
    JOB_RUNNING: _ClassVar[JobState]
    JOB_SUCCEEDED: _ClassVar[JobState]
    JOB_FAILED: _ClassVar[JobState]
    JOB_CANCELLED: _ClassVar[JobState]
    JOB_INTERRUPTED: _ClassVar[JobState]
JOB_STATE_UNSPECIFIED: JobState
JOB_QUEUED: JobState
JOB_RUNNING: JobState
JOB_SUCCEEDED: JobState
JOB_FAILED: JobState
JOB_CANCELLED: JobState
JOB_INTERRUPTED: JobState

class DatasetSource(_message.Message):
    __slots__ = ("dataset_id", "server_dir", "labels_csv", "unlabelled_dir", "splits_csv", "group_pattern")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    SERVER_DIR_FIELD_NUMBER: _ClassVar[int]
    LABELS_CSV_FIELD_NUMBER: _ClassVar[int]
    UNLABELLED_DIR_FIELD_NUMBER: _ClassVar[int]
    SPLITS_CSV_FIELD_NUMBER: _ClassVar[int]
    GROUP_PATTERN_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    server_dir: str
    labels_csv: str
    unlabelled_dir: str
    splits_csv: str
    group_pattern: str
    def __init__(self, dataset_id: _Optional[str] = ..., server_dir: _Optional[str] = ..., labels_csv: _Optional[str] = ..., unlabelled_dir: _Optional[str] = ..., splits_csv: _Optional[str] = ..., group_pattern: _Optional[str] = ...) -> None: ...

class TrainConfig(_message.Message):
    __slots__ = ("arch", "model_id", "overwrite", "epochs", "head_epochs", "batch_size", "image_height", "image_width", "learning_rate", "body_lr_divisor", "weight_decay", "patience", "imbalance", "pretrained", "seed", "val_fraction", "test_fraction", "augmentation", "quantize", "max_seconds", "threads", "augmented_copies", "serve_format", "lr_finder_steps", "semi_supervised", "pseudo_threshold", "ensemble_archs", "device", "scale", "tile", "pages")
    ARCH_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    HEAD_EPOCHS_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    IMAGE_WIDTH_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    BODY_LR_DIVISOR_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_DECAY_FIELD_NUMBER: _ClassVar[int]
    PATIENCE_FIELD_NUMBER: _ClassVar[int]
    IMBALANCE_FIELD_NUMBER: _ClassVar[int]
    PRETRAINED_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    VAL_FRACTION_FIELD_NUMBER: _ClassVar[int]
    TEST_FRACTION_FIELD_NUMBER: _ClassVar[int]
    AUGMENTATION_FIELD_NUMBER: _ClassVar[int]
    QUANTIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    THREADS_FIELD_NUMBER: _ClassVar[int]
    AUGMENTED_COPIES_FIELD_NUMBER: _ClassVar[int]
    SERVE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    LR_FINDER_STEPS_FIELD_NUMBER: _ClassVar[int]
    SEMI_SUPERVISED_FIELD_NUMBER: _ClassVar[int]
    PSEUDO_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ENSEMBLE_ARCHS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    TILE_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    arch: str
    model_id: str
    overwrite: bool
    epochs: int
    head_epochs: int
    batch_size: int
    image_height: int
    image_width: int
    learning_rate: float
    body_lr_divisor: float
    weight_decay: float
    patience: int
    imbalance: str
    pretrained: str
    seed: int
    val_fraction: float
    test_fraction: float
    augmentation: str
    quantize: bool
    max_seconds: float
    threads: int
    augmented_copies: int
    serve_format: str
    lr_finder_steps: int
    semi_supervised: str
    pseudo_threshold: float
    ensemble_archs: _containers.RepeatedScalarFieldContainer[str]
    device: str
    scale: str
    tile: int
    pages: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, arch: _Optional[str] = ..., model_id: _Optional[str] = ..., overwrite: _Optional[bool] = ..., epochs: _Optional[int] = ..., head_epochs: _Optional[int] = ..., batch_size: _Optional[int] = ..., image_height: _Optional[int] = ..., image_width: _Optional[int] = ..., learning_rate: _Optional[float] = ..., body_lr_divisor: _Optional[float] = ..., weight_decay: _Optional[float] = ..., patience: _Optional[int] = ..., imbalance: _Optional[str] = ..., pretrained: _Optional[str] = ..., seed: _Optional[int] = ..., val_fraction: _Optional[float] = ..., test_fraction: _Optional[float] = ..., augmentation: _Optional[str] = ..., quantize: _Optional[bool] = ..., max_seconds: _Optional[float] = ..., threads: _Optional[int] = ..., augmented_copies: _Optional[int] = ..., serve_format: _Optional[str] = ..., lr_finder_steps: _Optional[int] = ..., semi_supervised: _Optional[str] = ..., pseudo_threshold: _Optional[float] = ..., ensemble_archs: _Optional[_Iterable[str]] = ..., device: _Optional[str] = ..., scale: _Optional[str] = ..., tile: _Optional[int] = ..., pages: _Optional[_Iterable[int]] = ...) -> None: ...

class TrainRequest(_message.Message):
    __slots__ = ("dataset", "config")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    dataset: DatasetSource
    config: TrainConfig
    def __init__(self, dataset: _Optional[_Union[DatasetSource, _Mapping]] = ..., config: _Optional[_Union[TrainConfig, _Mapping]] = ...) -> None: ...

class TrainResponse(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("stage", "epoch", "epochs", "step", "steps", "loss", "metrics", "eta_seconds", "images_per_second")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    STAGE_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    ETA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    IMAGES_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    stage: str
    epoch: int
    epochs: int
    step: int
    steps: int
    loss: float
    metrics: _containers.ScalarMap[str, float]
    eta_seconds: float
    images_per_second: float
    def __init__(self, stage: _Optional[str] = ..., epoch: _Optional[int] = ..., epochs: _Optional[int] = ..., step: _Optional[int] = ..., steps: _Optional[int] = ..., loss: _Optional[float] = ..., metrics: _Optional[_Mapping[str, float]] = ..., eta_seconds: _Optional[float] = ..., images_per_second: _Optional[float] = ...) -> None: ...

class JobUpdate(_message.Message):
    __slots__ = ("job_id", "state", "progress", "log", "error")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    state: JobState
    progress: Progress
    log: _containers.RepeatedScalarFieldContainer[str]
    error: str
    def __init__(self, job_id: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ..., log: _Optional[_Iterable[str]] = ..., error: _Optional[str] = ...) -> None: ...

class EpochRecord(_message.Message):
    __slots__ = ("stage", "epoch", "train_loss", "val_loss", "val_accuracy", "learning_rate", "seconds")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    TRAIN_LOSS_FIELD_NUMBER: _ClassVar[int]
    VAL_LOSS_FIELD_NUMBER: _ClassVar[int]
    VAL_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    stage: str
    epoch: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    learning_rate: float
    seconds: float
    def __init__(self, stage: _Optional[str] = ..., epoch: _Optional[int] = ..., train_loss: _Optional[float] = ..., val_loss: _Optional[float] = ..., val_accuracy: _Optional[float] = ..., learning_rate: _Optional[float] = ..., seconds: _Optional[float] = ...) -> None: ...

class ExportedModel(_message.Message):
    __slots__ = ("format", "file", "size_bytes", "accuracy", "ms_per_image")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    MS_PER_IMAGE_FIELD_NUMBER: _ClassVar[int]
    format: str
    file: str
    size_bytes: int
    accuracy: float
    ms_per_image: float
    def __init__(self, format: _Optional[str] = ..., file: _Optional[str] = ..., size_bytes: _Optional[int] = ..., accuracy: _Optional[float] = ..., ms_per_image: _Optional[float] = ...) -> None: ...

class UnlabelledPrediction(_message.Message):
    __slots__ = ("name", "label", "probability")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    name: str
    label: str
    probability: float
    def __init__(self, name: _Optional[str] = ..., label: _Optional[str] = ..., probability: _Optional[float] = ...) -> None: ...

class DatasetSummary(_message.Message):
    __slots__ = ("labels", "counts", "skipped", "unlabelled")
    class CountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    LABELS_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    UNLABELLED_FIELD_NUMBER: _ClassVar[int]
    labels: _containers.RepeatedScalarFieldContainer[str]
    counts: _containers.ScalarMap[str, int]
    skipped: _containers.RepeatedCompositeFieldContainer[_classifier_pb2.SkippedImage]
    unlabelled: int
    def __init__(self, labels: _Optional[_Iterable[str]] = ..., counts: _Optional[_Mapping[str, int]] = ..., skipped: _Optional[_Iterable[_Union[_classifier_pb2.SkippedImage, _Mapping]]] = ..., unlabelled: _Optional[int] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("id", "state", "request", "created", "started", "finished", "error", "progress", "model_id", "dataset", "history", "test_metrics", "exports", "confusion_png", "curves_png", "unlabelled", "log", "pid", "weights_source", "pseudo_labels")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    TEST_METRICS_FIELD_NUMBER: _ClassVar[int]
    EXPORTS_FIELD_NUMBER: _ClassVar[int]
    CONFUSION_PNG_FIELD_NUMBER: _ClassVar[int]
    CURVES_PNG_FIELD_NUMBER: _ClassVar[int]
    UNLABELLED_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_SOURCE_FIELD_NUMBER: _ClassVar[int]
    PSEUDO_LABELS_FIELD_NUMBER: _ClassVar[int]
    id: str
    state: JobState
    request: TrainRequest
    created: float
    started: float
    finished: float
    error: str
    progress: Progress
    model_id: str
    dataset: DatasetSummary
    history: _containers.RepeatedCompositeFieldContainer[EpochRecord]
    test_metrics: _classifier_pb2.ModelEvaluation
    exports: _containers.RepeatedCompositeFieldContainer[ExportedModel]
    confusion_png: bytes
    curves_png: bytes
    unlabelled: _containers.RepeatedCompositeFieldContainer[UnlabelledPrediction]
    log: _containers.RepeatedScalarFieldContainer[str]
    pid: int
    weights_source: str
    pseudo_labels: _containers.RepeatedCompositeFieldContainer[PseudoLabelRound]
    def __init__(self, id: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., request: _Optional[_Union[TrainRequest, _Mapping]] = ..., created: _Optional[float] = ..., started: _Optional[float] = ..., finished: _Optional[float] = ..., error: _Optional[str] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ..., model_id: _Optional[str] = ..., dataset: _Optional[_Union[DatasetSummary, _Mapping]] = ..., history: _Optional[_Iterable[_Union[EpochRecord, _Mapping]]] = ..., test_metrics: _Optional[_Union[_classifier_pb2.ModelEvaluation, _Mapping]] = ..., exports: _Optional[_Iterable[_Union[ExportedModel, _Mapping]]] = ..., confusion_png: _Optional[bytes] = ..., curves_png: _Optional[bytes] = ..., unlabelled: _Optional[_Iterable[_Union[UnlabelledPrediction, _Mapping]]] = ..., log: _Optional[_Iterable[str]] = ..., pid: _Optional[int] = ..., weights_source: _Optional[str] = ..., pseudo_labels: _Optional[_Iterable[_Union[PseudoLabelRound, _Mapping]]] = ...) -> None: ...

class PseudoLabelRound(_message.Message):
    __slots__ = ("round", "teachers", "transforms", "unlabelled", "pseudo_labelled", "counts", "with_known_label", "accuracy")
    class CountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ROUND_FIELD_NUMBER: _ClassVar[int]
    TEACHERS_FIELD_NUMBER: _ClassVar[int]
    TRANSFORMS_FIELD_NUMBER: _ClassVar[int]
    UNLABELLED_FIELD_NUMBER: _ClassVar[int]
    PSEUDO_LABELLED_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    WITH_KNOWN_LABEL_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    round: int
    teachers: int
    transforms: int
    unlabelled: int
    pseudo_labelled: int
    counts: _containers.ScalarMap[str, int]
    with_known_label: int
    accuracy: float
    def __init__(self, round: _Optional[int] = ..., teachers: _Optional[int] = ..., transforms: _Optional[int] = ..., unlabelled: _Optional[int] = ..., pseudo_labelled: _Optional[int] = ..., counts: _Optional[_Mapping[str, int]] = ..., with_known_label: _Optional[int] = ..., accuracy: _Optional[float] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs",)
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class UploadDatasetHeader(_message.Message):
    __slots__ = ("name", "format", "sha256")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    name: str
    format: str
    sha256: str
    def __init__(self, name: _Optional[str] = ..., format: _Optional[str] = ..., sha256: _Optional[str] = ...) -> None: ...

class UploadDatasetRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: UploadDatasetHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[UploadDatasetHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class Dataset(_message.Message):
    __slots__ = ("id", "name", "labels", "images", "size_bytes", "created", "sha256")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    images: int
    size_bytes: int
    created: float
    sha256: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., images: _Optional[int] = ..., size_bytes: _Optional[int] = ..., created: _Optional[float] = ..., sha256: _Optional[str] = ...) -> None: ...

class ListDatasetsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListDatasetsResponse(_message.Message):
    __slots__ = ("datasets",)
    DATASETS_FIELD_NUMBER: _ClassVar[int]
    datasets: _containers.RepeatedCompositeFieldContainer[Dataset]
    def __init__(self, datasets: _Optional[_Iterable[_Union[Dataset, _Mapping]]] = ...) -> None: ...

class PreviewAugmentationRequest(_message.Message):
    __slots__ = ("image", "augmentation", "count", "seed")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    AUGMENTATION_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    image: _image_pb2.Image
    augmentation: str
    count: int
    seed: int
    def __init__(self, image: _Optional[_Union[_image_pb2.Image, _Mapping]] = ..., augmentation: _Optional[str] = ..., count: _Optional[int] = ..., seed: _Optional[int] = ...) -> None: ...

class PreviewAugmentationResponse(_message.Message):
    __slots__ = ("images",)
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[_image_pb2.Image]
    def __init__(self, images: _Optional[_Iterable[_Union[_image_pb2.Image, _Mapping]]] = ...) -> None: ...
