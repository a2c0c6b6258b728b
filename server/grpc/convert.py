"""Service-layer results to protobuf messages (and back), in one place."""
from __future__ import annotations

import math

import numpy as np

from bioclass.server.backends import FrameworkInfo
from bioclass.server.cards import CARD_FILE, ModelCard
from bioclass.server.explain import ExplainOptions, ExplanationResult
from bioclass.server.measures import Measures
from bioclass.server.runner import Runner
from bioclass.server.service import EvaluationResult, PredictionResult
from bioclass.v1 import classifier_pb2 as pb
from bioclass.v1 import image_pb2

_STATES = {"AVAILABLE": pb.AVAILABLE, "LOADED": pb.LOADED, "FAILED": pb.FAILED, "LOADING": pb.LOADING,
           "UNLOADED": pb.UNLOADED}


def framework(info: FrameworkInfo, loaded: bool) -> pb.Framework:
    return pb.Framework(name=info.name, available=info.available, version=info.version,
                        formats=list(info.formats), imported=loaded)


def summary(runner: Runner, is_default: bool = True) -> pb.ModelSummary:
    card = runner.card
    return pb.ModelSummary(id=card.id, name=card.name, framework=card.framework, tags=list(card.tags),
                           labels=list(card.labels), state=_STATES[runner.state], error=runner.error,
                           description=card.description, version=runner.version, is_default=is_default,
                           usage=usage(runner))


def usage(runner: Runner) -> pb.ModelUsage:
    return pb.ModelUsage(memory_bytes=runner.memory_bytes(), last_used=runner.usage.last_used,
                         in_flight=runner.usage.in_flight, pinned=bool(runner.card.serving.pinned),
                         device=getattr(runner, "device", ""))


def model_card(runner: Runner, is_default: bool = True, versions: list[int] | None = None) -> pb.ModelCard:
    card: ModelCard = runner.card
    pre, prov = card.preprocessing, card.provenance
    try:
        card_yaml = (runner.folder / CARD_FILE).read_text(encoding="utf-8")
    except OSError:
        card_yaml = ""
    return pb.ModelCard(
        id=card.id, name=card.name, description=card.description, framework=card.framework,
        weights=card.weights, format=card.weight_format, tags=list(card.tags), architecture=card.architecture,
        input=pb.InputSpec(axes=card.input.axes, channels=card.input.channels, height=card.input.size[0],
                           width=card.input.size[1], dtype=card.input.dtype, tensor_name=card.input.tensor_name),
        preprocessing=pb.Preprocessing(resize=pre.resize, color=pre.color, scale=pre.scale,
                                       percentiles=list(pre.percentiles), mean=list(pre.mean), std=list(pre.std)),
        output=pb.OutputSpec(labels=list(card.labels), activation=card.output.activation),
        provenance=pb.Provenance(training_data=prov.training_data, metrics=prov.metrics, license=prov.license,
                                 citation=prov.citation, authors=list(prov.authors), created=str(prov.created)),
        state=_STATES[runner.state], error=runner.error, card_yaml=card_yaml, path=str(runner.folder),
        version=runner.version, is_default=is_default, versions=versions or [runner.version], usage=usage(runner),
        device=card.device,
    )


def prediction(result: PredictionResult) -> pb.Prediction:
    t = result.timings
    return pb.Prediction(
        name=result.name, model_id=result.model_id,
        top=[pb.LabelProbability(label=label, probability=p, index=i) for i, label, p in result.top()],
        probabilities=result.probabilities.tolist(),
        timings=pb.Timings(decode_ms=t.decode_ms, preprocess_ms=t.preprocess_ms, queue_ms=t.queue_ms,
                           inference_ms=t.inference_ms, total_ms=t.total_ms),
        explanation=explanation(result.explanation) if result.explanation is not None else None,
    )


def explain_options(message: pb.ExplainOptions) -> ExplainOptions:
    which = message.WhichOneof("target")
    target = message.target_label if which == "target_label" else (
        message.target_index if which == "target_index" else None)
    return ExplainOptions(message.method or "auto", target, message.occlusion_window, message.occlusion_stride)


def explanation(result: ExplanationResult) -> pb.Explanation:
    saliency = np.ascontiguousarray(result.saliency, dtype="<f4")
    return pb.Explanation(
        saliency=image_pb2.Tensor(dtype=image_pb2.FLOAT32, shape=list(saliency.shape), axes="yx",
                                  data=saliency.tobytes()),
        method=result.method, class_index=result.class_index, class_label=result.class_label,
        explain_ms=result.explain_ms)


def evaluation(result: EvaluationResult) -> pb.EvaluateResponse:
    return pb.EvaluateResponse(
        evaluations=[model_evaluation(model_id, m, ms) for model_id, m, ms in result.evaluations],
        skipped=[pb.SkippedImage(name=name, reason=reason) for name, reason in result.skipped],
    )


def model_evaluation(model_id: str, m: Measures, ms_per_image: float = 0.0) -> pb.ModelEvaluation:
    labels = [c.label for c in m.per_class]
    return pb.ModelEvaluation(
        model_id=model_id, images=m.images, accuracy=m.accuracy, balanced_accuracy=m.balanced_accuracy,
        precision_macro=m.precision_macro, recall_macro=m.recall_macro, f1_macro=m.f1_macro, mcc=m.mcc,
        cohen_kappa=m.cohen_kappa, auroc=m.auroc, top_k_accuracy=m.top_k_accuracy, top_k=m.top_k,
        per_class=[pb.ClassMeasures(label=c.label, precision=c.precision, recall=c.recall, f1=c.f1,
                                    support=c.support, auroc=c.auroc) for c in m.per_class],
        confusion=pb.ConfusionMatrix(labels=labels, counts=m.confusion.ravel().tolist()),
        ms_per_image=ms_per_image if math.isfinite(ms_per_image) else 0.0,
    )
