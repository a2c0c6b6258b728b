from bioclass.v1 import image_pb2 as _image_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ModelState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_STATE_UNSPECIFIED: _ClassVar[ModelState]
    AVAILABLE: _ClassVar[ModelState]
    LOADED: _ClassVar[ModelState]
    FAILED: _ClassVar[ModelState]
    LOADING: _ClassVar[ModelState]
    UNLOADED: _ClassVar[ModelState]

class TileAggregation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TILE_AGGREGATION_UNSPECIFIED: _ClassVar[TileAggregation]
    AGGREGATION_MEAN: _ClassVar[TileAggregation]
    AGGREGATION_MAJORITY: _ClassVar[TileAggregation]
MODEL_STATE_UNSPECIFIED: ModelState
AVAILABLE: ModelState
LOADED: ModelState
FAILED: ModelState
LOADING: ModelState
UNLOADED: ModelState
TILE_AGGREGATION_UNSPECIFIED: TileAggregation
AGGREGATION_MEAN: TileAggregation
AGGREGATION_MAJORITY: TileAggregation

class ListFrameworksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Framework(_message.Message):
    __slots__ = ("name", "available", "version", "formats", "imported")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FORMATS_FIELD_NUMBER: _ClassVar[int]
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    name: str
    available: bool
    version: str
    formats: _containers.RepeatedScalarFieldContainer[str]
    imported: bool
    def __init__(self, name: _Optional[str] = ..., available: _Optional[bool] = ..., version: _Optional[str] = ..., formats: _Optional[_Iterable[str]] = ..., imported: _Optional[bool] = ...) -> None: ...

class ListFrameworksResponse(_message.Message):
    __slots__ = ("frameworks",)
    FRAMEWORKS_FIELD_NUMBER: _ClassVar[int]
    frameworks: _containers.RepeatedCompositeFieldContainer[Framework]
    def __init__(self, frameworks: _Optional[_Iterable[_Union[Framework, _Mapping]]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ("framework", "tags", "versions")
    FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    framework: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    versions: bool
    def __init__(self, framework: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., versions: _Optional[bool] = ...) -> None: ...

class ModelUsage(_message.Message):
    __slots__ = ("memory_bytes", "last_used", "in_flight", "pinned", "device")
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    PINNED_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    memory_bytes: int
    last_used: float
    in_flight: int
    pinned: bool
    device: str
    def __init__(self, memory_bytes: _Optional[int] = ..., last_used: _Optional[float] = ..., in_flight: _Optional[int] = ..., pinned: _Optional[bool] = ..., device: _Optional[str] = ...) -> None: ...

class ModelSummary(_message.Message):
    __slots__ = ("id", "name", "framework", "tags", "labels", "state", "error", "description", "version", "is_default", "usage")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    framework: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.RepeatedScalarFieldContainer[str]
    state: ModelState
    error: str
    description: str
    version: int
    is_default: bool
    usage: ModelUsage
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., framework: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., labels: _Optional[_Iterable[str]] = ..., state: _Optional[_Union[ModelState, str]] = ..., error: _Optional[str] = ..., description: _Optional[str] = ..., version: _Optional[int] = ..., is_default: _Optional[bool] = ..., usage: _Optional[_Union[ModelUsage, _Mapping]] = ...) -> None: ...

class ZooProblem(_message.Message):
    __slots__ = ("path", "reason")
    PATH_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    path: str
    reason: str
    def __init__(self, path: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models", "problems")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelSummary]
    problems: _containers.RepeatedCompositeFieldContainer[ZooProblem]
    def __init__(self, models: _Optional[_Iterable[_Union[ModelSummary, _Mapping]]] = ..., problems: _Optional[_Iterable[_Union[ZooProblem, _Mapping]]] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ("model_id",)
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    def __init__(self, model_id: _Optional[str] = ...) -> None: ...

class InputSpec(_message.Message):
    __slots__ = ("axes", "channels", "height", "width", "dtype", "tensor_name")
    AXES_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    TENSOR_NAME_FIELD_NUMBER: _ClassVar[int]
    axes: str
    channels: int
    height: int
    width: int
    dtype: str
    tensor_name: str
    def __init__(self, axes: _Optional[str] = ..., channels: _Optional[int] = ..., height: _Optional[int] = ..., width: _Optional[int] = ..., dtype: _Optional[str] = ..., tensor_name: _Optional[str] = ...) -> None: ...

class Preprocessing(_message.Message):
    __slots__ = ("resize", "color", "scale", "percentiles", "mean", "std")
    RESIZE_FIELD_NUMBER: _ClassVar[int]
    COLOR_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    PERCENTILES_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    STD_FIELD_NUMBER: _ClassVar[int]
    resize: str
    color: str
    scale: str
    percentiles: _containers.RepeatedScalarFieldContainer[float]
    mean: _containers.RepeatedScalarFieldContainer[float]
    std: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, resize: _Optional[str] = ..., color: _Optional[str] = ..., scale: _Optional[str] = ..., percentiles: _Optional[_Iterable[float]] = ..., mean: _Optional[_Iterable[float]] = ..., std: _Optional[_Iterable[float]] = ...) -> None: ...

class OutputSpec(_message.Message):
    __slots__ = ("labels", "activation")
    LABELS_FIELD_NUMBER: _ClassVar[int]
    ACTIVATION_FIELD_NUMBER: _ClassVar[int]
    labels: _containers.RepeatedScalarFieldContainer[str]
    activation: str
    def __init__(self, labels: _Optional[_Iterable[str]] = ..., activation: _Optional[str] = ...) -> None: ...

class Provenance(_message.Message):
    __slots__ = ("training_data", "metrics", "license", "citation", "authors", "created")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    TRAINING_DATA_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    LICENSE_FIELD_NUMBER: _ClassVar[int]
    CITATION_FIELD_NUMBER: _ClassVar[int]
    AUTHORS_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    training_data: str
    metrics: _containers.ScalarMap[str, float]
    license: str
    citation: str
    authors: _containers.RepeatedScalarFieldContainer[str]
    created: str
    def __init__(self, training_data: _Optional[str] = ..., metrics: _Optional[_Mapping[str, float]] = ..., license: _Optional[str] = ..., citation: _Optional[str] = ..., authors: _Optional[_Iterable[str]] = ..., created: _Optional[str] = ...) -> None: ...

class ModelCard(_message.Message):
    __slots__ = ("id", "name", "description", "framework", "weights", "format", "tags", "input", "preprocessing", "output", "provenance", "architecture", "state", "error", "card_yaml", "path", "version", "is_default", "versions", "usage", "device")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    PREPROCESSING_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CARD_YAML_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    description: str
    framework: str
    weights: str
    format: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    input: InputSpec
    preprocessing: Preprocessing
    output: OutputSpec
    provenance: Provenance
    architecture: str
    state: ModelState
    error: str
    card_yaml: str
    path: str
    version: int
    is_default: bool
    versions: _containers.RepeatedScalarFieldContainer[int]
    usage: ModelUsage
    device: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., framework: _Optional[str] = ..., weights: _Optional[str] = ..., format: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., input: _Optional[_Union[InputSpec, _Mapping]] = ..., preprocessing: _Optional[_Union[Preprocessing, _Mapping]] = ..., output: _Optional[_Union[OutputSpec, _Mapping]] = ..., provenance: _Optional[_Union[Provenance, _Mapping]] = ..., architecture: _Optional[str] = ..., state: _Optional[_Union[ModelState, str]] = ..., error: _Optional[str] = ..., card_yaml: _Optional[str] = ..., path: _Optional[str] = ..., version: _Optional[int] = ..., is_default: _Optional[bool] = ..., versions: _Optional[_Iterable[int]] = ..., usage: _Optional[_Union[ModelUsage, _Mapping]] = ..., device: _Optional[str] = ...) -> None: ...

class SetDefaultVersionRequest(_message.Message):
    __slots__ = ("model_id", "version")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    version: int
    def __init__(self, model_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class PredictRequest(_message.Message):
    __slots__ = ("model_id", "image", "top_k", "explain")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    EXPLAIN_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    image: _image_pb2.Image
    top_k: int
    explain: ExplainOptions
    def __init__(self, model_id: _Optional[str] = ..., image: _Optional[_Union[_image_pb2.Image, _Mapping]] = ..., top_k: _Optional[int] = ..., explain: _Optional[_Union[ExplainOptions, _Mapping]] = ...) -> None: ...

class LabelProbability(_message.Message):
    __slots__ = ("label", "probability", "index")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    label: str
    probability: float
    index: int
    def __init__(self, label: _Optional[str] = ..., probability: _Optional[float] = ..., index: _Optional[int] = ...) -> None: ...

class Timings(_message.Message):
    __slots__ = ("decode_ms", "preprocess_ms", "queue_ms", "inference_ms", "total_ms")
    DECODE_MS_FIELD_NUMBER: _ClassVar[int]
    PREPROCESS_MS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_MS_FIELD_NUMBER: _ClassVar[int]
    INFERENCE_MS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MS_FIELD_NUMBER: _ClassVar[int]
    decode_ms: float
    preprocess_ms: float
    queue_ms: float
    inference_ms: float
    total_ms: float
    def __init__(self, decode_ms: _Optional[float] = ..., preprocess_ms: _Optional[float] = ..., queue_ms: _Optional[float] = ..., inference_ms: _Optional[float] = ..., total_ms: _Optional[float] = ...) -> None: ...

class Prediction(_message.Message):
    __slots__ = ("name", "model_id", "top", "probabilities", "timings", "explanation")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    TOP_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    model_id: str
    top: _containers.RepeatedCompositeFieldContainer[LabelProbability]
    probabilities: _containers.RepeatedScalarFieldContainer[float]
    timings: Timings
    explanation: Explanation
    def __init__(self, name: _Optional[str] = ..., model_id: _Optional[str] = ..., top: _Optional[_Iterable[_Union[LabelProbability, _Mapping]]] = ..., probabilities: _Optional[_Iterable[float]] = ..., timings: _Optional[_Union[Timings, _Mapping]] = ..., explanation: _Optional[_Union[Explanation, _Mapping]] = ...) -> None: ...

class PredictResponse(_message.Message):
    __slots__ = ("prediction",)
    PREDICTION_FIELD_NUMBER: _ClassVar[int]
    prediction: Prediction
    def __init__(self, prediction: _Optional[_Union[Prediction, _Mapping]] = ...) -> None: ...

class ItemError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class PredictStreamResponse(_message.Message):
    __slots__ = ("index", "prediction", "error")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    index: int
    prediction: Prediction
    error: ItemError
    def __init__(self, index: _Optional[int] = ..., prediction: _Optional[_Union[Prediction, _Mapping]] = ..., error: _Optional[_Union[ItemError, _Mapping]] = ...) -> None: ...

class EvaluateConfig(_message.Message):
    __slots__ = ("model_ids", "top_k", "dataset_dir")
    MODEL_IDS_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    DATASET_DIR_FIELD_NUMBER: _ClassVar[int]
    model_ids: _containers.RepeatedScalarFieldContainer[str]
    top_k: int
    dataset_dir: str
    def __init__(self, model_ids: _Optional[_Iterable[str]] = ..., top_k: _Optional[int] = ..., dataset_dir: _Optional[str] = ...) -> None: ...

class LabelledImage(_message.Message):
    __slots__ = ("image", "label")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    image: _image_pb2.Image
    label: str
    def __init__(self, image: _Optional[_Union[_image_pb2.Image, _Mapping]] = ..., label: _Optional[str] = ...) -> None: ...

class EvaluateRequest(_message.Message):
    __slots__ = ("config", "sample")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FIELD_NUMBER: _ClassVar[int]
    config: EvaluateConfig
    sample: LabelledImage
    def __init__(self, config: _Optional[_Union[EvaluateConfig, _Mapping]] = ..., sample: _Optional[_Union[LabelledImage, _Mapping]] = ...) -> None: ...

class ClassMeasures(_message.Message):
    __slots__ = ("label", "precision", "recall", "f1", "support", "auroc")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    RECALL_FIELD_NUMBER: _ClassVar[int]
    F1_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_FIELD_NUMBER: _ClassVar[int]
    AUROC_FIELD_NUMBER: _ClassVar[int]
    label: str
    precision: float
    recall: float
    f1: float
    support: int
    auroc: float
    def __init__(self, label: _Optional[str] = ..., precision: _Optional[float] = ..., recall: _Optional[float] = ..., f1: _Optional[float] = ..., support: _Optional[int] = ..., auroc: _Optional[float] = ...) -> None: ...

class ConfusionMatrix(_message.Message):
    __slots__ = ("labels", "counts")
    LABELS_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    labels: _containers.RepeatedScalarFieldContainer[str]
    counts: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, labels: _Optional[_Iterable[str]] = ..., counts: _Optional[_Iterable[int]] = ...) -> None: ...

class ModelEvaluation(_message.Message):
    __slots__ = ("model_id", "images", "accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro", "mcc", "cohen_kappa", "auroc", "top_k_accuracy", "top_k", "per_class", "confusion", "ms_per_image")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    BALANCED_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    PRECISION_MACRO_FIELD_NUMBER: _ClassVar[int]
    RECALL_MACRO_FIELD_NUMBER: _ClassVar[int]
    F1_MACRO_FIELD_NUMBER: _ClassVar[int]
    MCC_FIELD_NUMBER: _ClassVar[int]
    COHEN_KAPPA_FIELD_NUMBER: _ClassVar[int]
    AUROC_FIELD_NUMBER: _ClassVar[int]
    TOP_K_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    PER_CLASS_FIELD_NUMBER: _ClassVar[int]
    CONFUSION_FIELD_NUMBER: _ClassVar[int]
    MS_PER_IMAGE_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    images: int
    accuracy: float
    balanced_accuracy: float
    precision_macro: float
    recall_macro: float
    f1_macro: float
    mcc: float
    cohen_kappa: float
    auroc: float
    top_k_accuracy: float
    top_k: int
    per_class: _containers.RepeatedCompositeFieldContainer[ClassMeasures]
    confusion: ConfusionMatrix
    ms_per_image: float
    def __init__(self, model_id: _Optional[str] = ..., images: _Optional[int] = ..., accuracy: _Optional[float] = ..., balanced_accuracy: _Optional[float] = ..., precision_macro: _Optional[float] = ..., recall_macro: _Optional[float] = ..., f1_macro: _Optional[float] = ..., mcc: _Optional[float] = ..., cohen_kappa: _Optional[float] = ..., auroc: _Optional[float] = ..., top_k_accuracy: _Optional[float] = ..., top_k: _Optional[int] = ..., per_class: _Optional[_Iterable[_Union[ClassMeasures, _Mapping]]] = ..., confusion: _Optional[_Union[ConfusionMatrix, _Mapping]] = ..., ms_per_image: _Optional[float] = ...) -> None: ...

class SkippedImage(_message.Message):
    __slots__ = ("name", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    reason: str
    def __init__(self, name: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class EvaluateResponse(_message.Message):
    __slots__ = ("evaluations", "skipped")
    EVALUATIONS_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    evaluations: _containers.RepeatedCompositeFieldContainer[ModelEvaluation]
    skipped: _containers.RepeatedCompositeFieldContainer[SkippedImage]
    def __init__(self, evaluations: _Optional[_Iterable[_Union[ModelEvaluation, _Mapping]]] = ..., skipped: _Optional[_Iterable[_Union[SkippedImage, _Mapping]]] = ...) -> None: ...

class RegisterModelHeader(_message.Message):
    __slots__ = ("card_yaml", "sha256", "overwrite", "new_version")
    CARD_YAML_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    NEW_VERSION_FIELD_NUMBER: _ClassVar[int]
    card_yaml: str
    sha256: str
    overwrite: bool
    new_version: bool
    def __init__(self, card_yaml: _Optional[str] = ..., sha256: _Optional[str] = ..., overwrite: _Optional[bool] = ..., new_version: _Optional[bool] = ...) -> None: ...

class RegisterModelRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: RegisterModelHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[RegisterModelHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class ExplainOptions(_message.Message):
    __slots__ = ("method", "target_label", "target_index", "occlusion_window", "occlusion_stride")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    TARGET_LABEL_FIELD_NUMBER: _ClassVar[int]
    TARGET_INDEX_FIELD_NUMBER: _ClassVar[int]
    OCCLUSION_WINDOW_FIELD_NUMBER: _ClassVar[int]
    OCCLUSION_STRIDE_FIELD_NUMBER: _ClassVar[int]
    method: str
    target_label: str
    target_index: int
    occlusion_window: int
    occlusion_stride: int
    def __init__(self, method: _Optional[str] = ..., target_label: _Optional[str] = ..., target_index: _Optional[int] = ..., occlusion_window: _Optional[int] = ..., occlusion_stride: _Optional[int] = ...) -> None: ...

class ExplainRequest(_message.Message):
    __slots__ = ("model_id", "image", "options", "top_k")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    image: _image_pb2.Image
    options: ExplainOptions
    top_k: int
    def __init__(self, model_id: _Optional[str] = ..., image: _Optional[_Union[_image_pb2.Image, _Mapping]] = ..., options: _Optional[_Union[ExplainOptions, _Mapping]] = ..., top_k: _Optional[int] = ...) -> None: ...

class Explanation(_message.Message):
    __slots__ = ("saliency", "method", "class_index", "class_label", "explain_ms")
    SALIENCY_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    CLASS_INDEX_FIELD_NUMBER: _ClassVar[int]
    CLASS_LABEL_FIELD_NUMBER: _ClassVar[int]
    EXPLAIN_MS_FIELD_NUMBER: _ClassVar[int]
    saliency: _image_pb2.Tensor
    method: str
    class_index: int
    class_label: str
    explain_ms: float
    def __init__(self, saliency: _Optional[_Union[_image_pb2.Tensor, _Mapping]] = ..., method: _Optional[str] = ..., class_index: _Optional[int] = ..., class_label: _Optional[str] = ..., explain_ms: _Optional[float] = ...) -> None: ...

class ExplainResponse(_message.Message):
    __slots__ = ("prediction", "explanation")
    PREDICTION_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    prediction: Prediction
    explanation: Explanation
    def __init__(self, prediction: _Optional[_Union[Prediction, _Mapping]] = ..., explanation: _Optional[_Union[Explanation, _Mapping]] = ...) -> None: ...

class ImportBioimageioHeader(_message.Message):
    __slots__ = ("model_id", "overwrite", "sha256")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    overwrite: bool
    sha256: str
    def __init__(self, model_id: _Optional[str] = ..., overwrite: _Optional[bool] = ..., sha256: _Optional[str] = ...) -> None: ...

class ImportBioimageioRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: ImportBioimageioHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[ImportBioimageioHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class ExportBioimageioRequest(_message.Message):
    __slots__ = ("model_id",)
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    def __init__(self, model_id: _Optional[str] = ...) -> None: ...

class PackageChunk(_message.Message):
    __slots__ = ("data", "file_name", "last")
    DATA_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    file_name: str
    last: bool
    def __init__(self, data: _Optional[bytes] = ..., file_name: _Optional[str] = ..., last: _Optional[bool] = ...) -> None: ...

class Region(_message.Message):
    __slots__ = ("y", "x", "height", "width")
    Y_FIELD_NUMBER: _ClassVar[int]
    X_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    y: int
    x: int
    height: int
    width: int
    def __init__(self, y: _Optional[int] = ..., x: _Optional[int] = ..., height: _Optional[int] = ..., width: _Optional[int] = ...) -> None: ...

class BackgroundSkip(_message.Message):
    __slots__ = ("level", "dark_background", "min_foreground")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    DARK_BACKGROUND_FIELD_NUMBER: _ClassVar[int]
    MIN_FOREGROUND_FIELD_NUMBER: _ClassVar[int]
    level: float
    dark_background: bool
    min_foreground: float
    def __init__(self, level: _Optional[float] = ..., dark_background: _Optional[bool] = ..., min_foreground: _Optional[float] = ...) -> None: ...

class TileOptions(_message.Message):
    __slots__ = ("tile_size", "stride", "region", "aggregation", "top_k", "skip_background")
    TILE_SIZE_FIELD_NUMBER: _ClassVar[int]
    STRIDE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    AGGREGATION_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    SKIP_BACKGROUND_FIELD_NUMBER: _ClassVar[int]
    tile_size: int
    stride: int
    region: Region
    aggregation: TileAggregation
    top_k: int
    skip_background: BackgroundSkip
    def __init__(self, tile_size: _Optional[int] = ..., stride: _Optional[int] = ..., region: _Optional[_Union[Region, _Mapping]] = ..., aggregation: _Optional[_Union[TileAggregation, str]] = ..., top_k: _Optional[int] = ..., skip_background: _Optional[_Union[BackgroundSkip, _Mapping]] = ...) -> None: ...

class FileUpload(_message.Message):
    __slots__ = ("size", "sha256")
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    size: int
    sha256: str
    def __init__(self, size: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class PredictTilesHeader(_message.Message):
    __slots__ = ("model_id", "image", "server_path", "upload", "options", "name", "series", "level")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    SERVER_PATH_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    image: _image_pb2.Image
    server_path: str
    upload: FileUpload
    options: TileOptions
    name: str
    series: int
    level: int
    def __init__(self, model_id: _Optional[str] = ..., image: _Optional[_Union[_image_pb2.Image, _Mapping]] = ..., server_path: _Optional[str] = ..., upload: _Optional[_Union[FileUpload, _Mapping]] = ..., options: _Optional[_Union[TileOptions, _Mapping]] = ..., name: _Optional[str] = ..., series: _Optional[int] = ..., level: _Optional[int] = ...) -> None: ...

class PredictTilesRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: PredictTilesHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[PredictTilesHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class TileGrid(_message.Message):
    __slots__ = ("name", "model_id", "image_height", "image_width", "region", "tile_height", "tile_width", "stride", "rows", "columns", "row_origins", "column_origins", "labels", "aggregation")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    IMAGE_WIDTH_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    TILE_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    TILE_WIDTH_FIELD_NUMBER: _ClassVar[int]
    STRIDE_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ROW_ORIGINS_FIELD_NUMBER: _ClassVar[int]
    COLUMN_ORIGINS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    AGGREGATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    model_id: str
    image_height: int
    image_width: int
    region: Region
    tile_height: int
    tile_width: int
    stride: int
    rows: int
    columns: int
    row_origins: _containers.RepeatedScalarFieldContainer[int]
    column_origins: _containers.RepeatedScalarFieldContainer[int]
    labels: _containers.RepeatedScalarFieldContainer[str]
    aggregation: TileAggregation
    def __init__(self, name: _Optional[str] = ..., model_id: _Optional[str] = ..., image_height: _Optional[int] = ..., image_width: _Optional[int] = ..., region: _Optional[_Union[Region, _Mapping]] = ..., tile_height: _Optional[int] = ..., tile_width: _Optional[int] = ..., stride: _Optional[int] = ..., rows: _Optional[int] = ..., columns: _Optional[int] = ..., row_origins: _Optional[_Iterable[int]] = ..., column_origins: _Optional[_Iterable[int]] = ..., labels: _Optional[_Iterable[str]] = ..., aggregation: _Optional[_Union[TileAggregation, str]] = ...) -> None: ...

class TileResult(_message.Message):
    __slots__ = ("row", "column", "tile", "probabilities", "top", "skipped", "foreground")
    ROW_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    TILE_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    TOP_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    FOREGROUND_FIELD_NUMBER: _ClassVar[int]
    row: int
    column: int
    tile: Region
    probabilities: _containers.RepeatedScalarFieldContainer[float]
    top: _containers.RepeatedCompositeFieldContainer[LabelProbability]
    skipped: bool
    foreground: float
    def __init__(self, row: _Optional[int] = ..., column: _Optional[int] = ..., tile: _Optional[_Union[Region, _Mapping]] = ..., probabilities: _Optional[_Iterable[float]] = ..., top: _Optional[_Iterable[_Union[LabelProbability, _Mapping]]] = ..., skipped: _Optional[bool] = ..., foreground: _Optional[float] = ...) -> None: ...

class TileRow(_message.Message):
    __slots__ = ("row", "tiles", "tiles_done", "tiles_total")
    ROW_FIELD_NUMBER: _ClassVar[int]
    TILES_FIELD_NUMBER: _ClassVar[int]
    TILES_DONE_FIELD_NUMBER: _ClassVar[int]
    TILES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    row: int
    tiles: _containers.RepeatedCompositeFieldContainer[TileResult]
    tiles_done: int
    tiles_total: int
    def __init__(self, row: _Optional[int] = ..., tiles: _Optional[_Iterable[_Union[TileResult, _Mapping]]] = ..., tiles_done: _Optional[int] = ..., tiles_total: _Optional[int] = ...) -> None: ...

class TileSummary(_message.Message):
    __slots__ = ("prediction", "tiles_classified", "tiles_skipped")
    PREDICTION_FIELD_NUMBER: _ClassVar[int]
    TILES_CLASSIFIED_FIELD_NUMBER: _ClassVar[int]
    TILES_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    prediction: Prediction
    tiles_classified: int
    tiles_skipped: int
    def __init__(self, prediction: _Optional[_Union[Prediction, _Mapping]] = ..., tiles_classified: _Optional[int] = ..., tiles_skipped: _Optional[int] = ...) -> None: ...

class PredictTilesResponse(_message.Message):
    __slots__ = ("grid", "row", "summary")
    GRID_FIELD_NUMBER: _ClassVar[int]
    ROW_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    grid: TileGrid
    row: TileRow
    summary: TileSummary
    def __init__(self, grid: _Optional[_Union[TileGrid, _Mapping]] = ..., row: _Optional[_Union[TileRow, _Mapping]] = ..., summary: _Optional[_Union[TileSummary, _Mapping]] = ...) -> None: ...
