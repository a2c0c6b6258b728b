"""gRPC skin of the training service: decode requests, call TrainingService, encode results."""
from __future__ import annotations

import math

import grpc
from google.protobuf.json_format import MessageToDict

from bioclass import images
from bioclass.errors import InvalidArgument
from bioclass.server import measures
from bioclass.server.grpc import convert
from bioclass.server.grpc.errors import streaming, unary
from bioclass.server.training.service import TrainingService
from bioclass.server.training.store import JobRecord
from bioclass.v1 import classifier_pb2 as cpb
from bioclass.v1 import image_pb2
from bioclass.v1 import training_pb2 as pb
from bioclass.v1 import training_pb2_grpc

# Job states, shared with the AutoML servicer (an AutoML run is a job too).
JOB_STATES = {"queued": pb.JOB_QUEUED, "running": pb.JOB_RUNNING, "succeeded": pb.JOB_SUCCEEDED,
              "failed": pb.JOB_FAILED, "cancelled": pb.JOB_CANCELLED, "interrupted": pb.JOB_INTERRUPTED}


class TrainingServicer(training_pb2_grpc.TrainingServicer):
    def __init__(self, service: TrainingService):
        self.service = service

    @unary
    async def Train(self, request: pb.TrainRequest, context) -> pb.TrainResponse:
        dataset, config = train_arguments(request)
        job = await self.service.train(dataset, config)
        return pb.TrainResponse(job_id=job.id)

    @streaming
    async def WatchJob(self, request: pb.WatchJobRequest, context):
        async for event in self.service.watch(request.job_id):
            job = event.job
            yield pb.JobUpdate(job_id=job.id, state=JOB_STATES[job.state], progress=_with_metrics(job),
                               log=event.log, error=job.error)

    @unary
    async def ListJobs(self, request: pb.ListJobsRequest, context) -> pb.ListJobsResponse:
        return pb.ListJobsResponse(jobs=[job_message(job) for job in self.service.jobs()])

    @unary
    async def GetJob(self, request: pb.GetJobRequest, context) -> pb.Job:
        job = self.service.job(request.job_id)
        message = job_message(job, full=True)
        message.confusion_png = self.service.plot(job.id, "confusion.png")
        message.curves_png = self.service.plot(job.id, "curves.png")
        return message

    @unary
    async def CancelJob(self, request: pb.CancelJobRequest, context) -> pb.Job:
        return job_message(self.service.cancel(request.job_id))

    @unary
    async def UploadDataset(self, request_iterator, context) -> pb.Dataset:
        first = await anext(aiter(request_iterator), None)
        if first is None or first.WhichOneof("item") != "header":
            raise InvalidArgument("the first message must be a header with the archive's name, format and sha256")

        async def chunks():
            async for message in request_iterator:
                if message.WhichOneof("item") != "chunk":
                    raise InvalidArgument("only chunks may follow the header")
                yield message.chunk

        header = first.header
        return dataset_message(await self.service.upload_dataset(header.name, header.format, header.sha256, chunks()))

    @unary
    async def ListDatasets(self, request: pb.ListDatasetsRequest, context) -> pb.ListDatasetsResponse:
        return pb.ListDatasetsResponse(datasets=[dataset_message(d) for d in self.service.dataset_list()])

    @unary
    async def PreviewAugmentation(self, request: pb.PreviewAugmentationRequest, context):
        pixels = images.decode(request.image, self.service.settings.max_pixels)
        augmented = await self.service.preview(pixels, request.augmentation, request.count, request.seed)
        return pb.PreviewAugmentationResponse(images=[_png(a, f"{request.image.name or 'image'}-{i}")
                                                      for i, a in enumerate(augmented)])


def train_arguments(request: pb.TrainRequest) -> tuple[dict, dict]:
    """Plain dicts for the service; fields left at 0 or empty take the recipe's defaults."""
    dataset = MessageToDict(request.dataset, preserving_proto_field_name=True)
    config = MessageToDict(request.config, preserving_proto_field_name=True)
    height, width = config.pop("image_height", 0), config.pop("image_width", 0)
    if height or width:
        config["image_size"] = (height or width, width or height)
    head_epochs = config.pop("head_epochs", 0)  # on the wire 0 means "the recipe decides", -1 "none"
    if head_epochs:
        config["head_epochs"] = max(0, head_epochs)
    return dataset, config


def progress(values: dict) -> pb.Progress:
    fields = {k: v for k, v in values.items() if k in pb.Progress.DESCRIPTOR.fields_by_name and k != "metrics"}
    return pb.Progress(**{k: finite(v) for k, v in fields.items()}, metrics=values.get("metrics", {}))


def job_message(job: JobRecord, full: bool = False) -> pb.Job:
    result = job.result
    message = pb.Job(id=job.id, state=JOB_STATES[job.state], created=job.created, started=job.started,
                     finished=job.finished, error=job.error, model_id=job.model_id, pid=job.pid,
                     progress=_with_metrics(job), weights_source=result.get("weights_source", ""))
    message.request.dataset.CopyFrom(pb.DatasetSource(**{k: v for k, v in job.request["dataset"].items() if v}))
    message.request.config.CopyFrom(_config_message(job.request["config"]))
    if result.get("labels"):
        message.dataset.CopyFrom(pb.DatasetSummary(
            labels=result["labels"], counts=result.get("counts", {}), unlabelled=len(result.get("unlabelled", [])),
            skipped=[cpb.SkippedImage(name=n, reason=r) for n, r in result.get("skipped", [])]))
    message.exports.extend(pb.ExportedModel(**e) for e in result.get("exports", []))
    if full:
        _add_details(message, job)
    return message


def _add_details(message: pb.Job, job: JobRecord) -> None:
    result = job.result
    message.history.extend(pb.EpochRecord(**{k: finite(v) for k, v in h.items()}) for h in result.get("history", []))
    if result.get("evaluation"):
        message.test_metrics.CopyFrom(convert.model_evaluation(job.model_id, measures.from_dict(result["evaluation"])))
    message.unlabelled.extend(pb.UnlabelledPrediction(**u) for u in result.get("unlabelled", []))
    message.pseudo_labels.extend(pb.PseudoLabelRound(**r) for r in result.get("pseudo_labels", []))
    message.log.extend(job.log)


def _with_metrics(job: JobRecord) -> pb.Progress:
    message = progress(job.progress)
    history = job.result.get("history", [])
    if history:
        last = history[-1]
        message.metrics.update({k: finite(last[k]) for k in ("val_loss", "val_accuracy", "train_loss")})
    return message


def _config_message(config: dict) -> pb.TrainConfig:
    values = dict(config)
    height, width = values.pop("image_size", (0, 0))
    values["head_epochs"] = {-1: 0, 0: -1}.get(values.get("head_epochs", -1), values.get("head_epochs", -1))
    values = {k: v for k, v in values.items() if k in pb.TrainConfig.DESCRIPTOR.fields_by_name}
    return pb.TrainConfig(**values, image_height=height, image_width=width)


def dataset_message(info) -> pb.Dataset:
    return pb.Dataset(id=info.id, name=info.name, labels=info.labels, images=info.images,
                      size_bytes=info.size_bytes, created=info.created, sha256=info.sha256)


def _png(pixels, name: str) -> image_pb2.Image:
    import io

    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.fromarray(pixels).save(buffer, format="PNG")
    return image_pb2.Image(name=name, encoded=image_pb2.EncodedImage(data=buffer.getvalue(), format="png"))


def finite(value):
    """A float for a proto field that JSON clients can read: NaN and infinities become 0."""
    return 0.0 if isinstance(value, float) and not math.isfinite(value) else value


def add_training(server: grpc.aio.Server, service) -> str:
    """Register the Training service; its job processes stop when the server closes."""
    training = TrainingService(service.settings, service.zoo)
    training_pb2_grpc.add_TrainingServicer_to_server(TrainingServicer(training), server)
    service.on_close.append(training.close)
    return pb.DESCRIPTOR.services_by_name["Training"].full_name
