from bioclass.v1 import training_pb2 as _training_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TrialState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRIAL_STATE_UNSPECIFIED: _ClassVar[TrialState]
    TRIAL_RUNNING: _ClassVar[TrialState]
    TRIAL_COMPLETE: _ClassVar[TrialState]
    TRIAL_PRUNED: _ClassVar[TrialState]
    TRIAL_FAILED: _ClassVar[TrialState]
TRIAL_STATE_UNSPECIFIED: TrialState
TRIAL_RUNNING: TrialState
TRIAL_COMPLETE: TrialState
TRIAL_PRUNED: TrialState
TRIAL_FAILED: TrialState

class AutoMLRequest(_message.Message):
    __slots__ = ("dataset", "budget_minutes", "metric", "max_model_mb", "max_latency_ms", "model_id", "overwrite", "architectures", "image_sizes", "semi_supervised_modes", "seed", "val_fraction", "threads", "ray_address", "tilings", "scales", "pages")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    BUDGET_MINUTES_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    MAX_MODEL_MB_FIELD_NUMBER: _ClassVar[int]
    MAX_LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURES_FIELD_NUMBER: _ClassVar[int]
    IMAGE_SIZES_FIELD_NUMBER: _ClassVar[int]
    SEMI_SUPERVISED_MODES_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    VAL_FRACTION_FIELD_NUMBER: _ClassVar[int]
    THREADS_FIELD_NUMBER: _ClassVar[int]
    RAY_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    TILINGS_FIELD_NUMBER: _ClassVar[int]
    SCALES_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    dataset: _training_pb2.DatasetSource
    budget_minutes: float
    metric: str
    max_model_mb: float
    max_latency_ms: float
    model_id: str
    overwrite: bool
    architectures: _containers.RepeatedScalarFieldContainer[str]
    image_sizes: _containers.RepeatedScalarFieldContainer[int]
    semi_supervised_modes: _containers.RepeatedScalarFieldContainer[str]
    seed: int
    val_fraction: float
    threads: int
    ray_address: str
    tilings: _containers.RepeatedScalarFieldContainer[str]
    scales: _containers.RepeatedScalarFieldContainer[str]
    pages: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, dataset: _Optional[_Union[_training_pb2.DatasetSource, _Mapping]] = ..., budget_minutes: _Optional[float] = ..., metric: _Optional[str] = ..., max_model_mb: _Optional[float] = ..., max_latency_ms: _Optional[float] = ..., model_id: _Optional[str] = ..., overwrite: _Optional[bool] = ..., architectures: _Optional[_Iterable[str]] = ..., image_sizes: _Optional[_Iterable[int]] = ..., semi_supervised_modes: _Optional[_Iterable[str]] = ..., seed: _Optional[int] = ..., val_fraction: _Optional[float] = ..., threads: _Optional[int] = ..., ray_address: _Optional[str] = ..., tilings: _Optional[_Iterable[str]] = ..., scales: _Optional[_Iterable[str]] = ..., pages: _Optional[_Iterable[int]] = ...) -> None: ...

class Trial(_message.Message):
    __slots__ = ("number", "state", "architecture", "params", "value", "seconds", "job_id", "note", "model_mb", "latency_ms", "value_sd", "folds")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    MODEL_MB_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    VALUE_SD_FIELD_NUMBER: _ClassVar[int]
    FOLDS_FIELD_NUMBER: _ClassVar[int]
    number: int
    state: TrialState
    architecture: str
    params: _containers.ScalarMap[str, str]
    value: float
    seconds: float
    job_id: str
    note: str
    model_mb: float
    latency_ms: float
    value_sd: float
    folds: int
    def __init__(self, number: _Optional[int] = ..., state: _Optional[_Union[TrialState, str]] = ..., architecture: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ..., value: _Optional[float] = ..., seconds: _Optional[float] = ..., job_id: _Optional[str] = ..., note: _Optional[str] = ..., model_mb: _Optional[float] = ..., latency_ms: _Optional[float] = ..., value_sd: _Optional[float] = ..., folds: _Optional[int] = ...) -> None: ...

class AutoMLRun(_message.Message):
    __slots__ = ("id", "state", "request", "created", "finished", "elapsed_seconds", "leaderboard", "best_trial", "model_id", "int8_model_id", "exports", "quantization", "log", "error", "metric", "profile")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LEADERBOARD_FIELD_NUMBER: _ClassVar[int]
    BEST_TRIAL_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    INT8_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    EXPORTS_FIELD_NUMBER: _ClassVar[int]
    QUANTIZATION_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    id: str
    state: _training_pb2.JobState
    request: AutoMLRequest
    created: float
    finished: float
    elapsed_seconds: float
    leaderboard: _containers.RepeatedCompositeFieldContainer[Trial]
    best_trial: int
    model_id: str
    int8_model_id: str
    exports: _containers.RepeatedCompositeFieldContainer[_training_pb2.ExportedModel]
    quantization: str
    log: _containers.RepeatedScalarFieldContainer[str]
    error: str
    metric: str
    profile: DatasetProfile
    def __init__(self, id: _Optional[str] = ..., state: _Optional[_Union[_training_pb2.JobState, str]] = ..., request: _Optional[_Union[AutoMLRequest, _Mapping]] = ..., created: _Optional[float] = ..., finished: _Optional[float] = ..., elapsed_seconds: _Optional[float] = ..., leaderboard: _Optional[_Iterable[_Union[Trial, _Mapping]]] = ..., best_trial: _Optional[int] = ..., model_id: _Optional[str] = ..., int8_model_id: _Optional[str] = ..., exports: _Optional[_Iterable[_Union[_training_pb2.ExportedModel, _Mapping]]] = ..., quantization: _Optional[str] = ..., log: _Optional[_Iterable[str]] = ..., error: _Optional[str] = ..., metric: _Optional[str] = ..., profile: _Optional[_Union[DatasetProfile, _Mapping]] = ...) -> None: ...

class SizeSpread(_message.Message):
    __slots__ = ("min", "median", "max")
    MIN_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    min: int
    median: int
    max: int
    def __init__(self, min: _Optional[int] = ..., median: _Optional[int] = ..., max: _Optional[int] = ...) -> None: ...

class ClassCount(_message.Message):
    __slots__ = ("label", "images")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    label: str
    images: int
    def __init__(self, label: _Optional[str] = ..., images: _Optional[int] = ...) -> None: ...

class DatasetProfile(_message.Message):
    __slots__ = ("images", "classes", "imbalance_ratio", "heights", "widths", "bit_depths", "channels", "pages", "profiled_images", "duplicate_images", "duplicates_across_classes", "duplicate_examples")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    IMBALANCE_RATIO_FIELD_NUMBER: _ClassVar[int]
    HEIGHTS_FIELD_NUMBER: _ClassVar[int]
    WIDTHS_FIELD_NUMBER: _ClassVar[int]
    BIT_DEPTHS_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    PROFILED_IMAGES_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_IMAGES_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_ACROSS_CLASSES_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    images: int
    classes: _containers.RepeatedCompositeFieldContainer[ClassCount]
    imbalance_ratio: float
    heights: SizeSpread
    widths: SizeSpread
    bit_depths: _containers.RepeatedScalarFieldContainer[int]
    channels: _containers.RepeatedScalarFieldContainer[int]
    pages: _containers.RepeatedScalarFieldContainer[int]
    profiled_images: int
    duplicate_images: int
    duplicates_across_classes: int
    duplicate_examples: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, images: _Optional[int] = ..., classes: _Optional[_Iterable[_Union[ClassCount, _Mapping]]] = ..., imbalance_ratio: _Optional[float] = ..., heights: _Optional[_Union[SizeSpread, _Mapping]] = ..., widths: _Optional[_Union[SizeSpread, _Mapping]] = ..., bit_depths: _Optional[_Iterable[int]] = ..., channels: _Optional[_Iterable[int]] = ..., pages: _Optional[_Iterable[int]] = ..., profiled_images: _Optional[int] = ..., duplicate_images: _Optional[int] = ..., duplicates_across_classes: _Optional[int] = ..., duplicate_examples: _Optional[_Iterable[str]] = ...) -> None: ...

class WatchAutoMLRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class GetAutoMLRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class ListAutoMLRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAutoMLResponse(_message.Message):
    __slots__ = ("runs",)
    RUNS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[AutoMLRun]
    def __init__(self, runs: _Optional[_Iterable[_Union[AutoMLRun, _Mapping]]] = ...) -> None: ...
