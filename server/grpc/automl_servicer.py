"""gRPC skin of the AutoML service: decode requests, call AutoMLService, encode runs."""
from __future__ import annotations

import grpc
from google.protobuf.json_format import MessageToDict, ParseDict

from bioclass.server.automl.service import AutoMLService
from bioclass.server.grpc.errors import streaming, unary
from bioclass.server.grpc.training_servicer import JOB_STATES, finite
from bioclass.server.training.store import JobRecord
from bioclass.v1 import automl_pb2 as pb
from bioclass.v1 import automl_pb2_grpc
from bioclass.v1 import training_pb2 as tpb

_TRIAL_STATES = {"running": pb.TRIAL_RUNNING, "complete": pb.TRIAL_COMPLETE, "pruned": pb.TRIAL_PRUNED,
                 "failed": pb.TRIAL_FAILED}


class AutoMLServicer(automl_pb2_grpc.AutoMLServicer):
    def __init__(self, service: AutoMLService):
        self.service = service

    @unary
    async def StartAutoML(self, request: pb.AutoMLRequest, context) -> pb.AutoMLRun:
        values = MessageToDict(request, preserving_proto_field_name=True)
        values.setdefault("budget_minutes", 0.0)
        return run_message(await self.service.start(values), full=True)

    @streaming
    async def WatchAutoML(self, request: pb.WatchAutoMLRequest, context):
        async for run in self.service.watch(request.run_id):
            yield run_message(run, full=True)

    @unary
    async def GetAutoML(self, request: pb.GetAutoMLRequest, context) -> pb.AutoMLRun:
        return run_message(self.service.run(request.run_id), full=True)

    @unary
    async def ListAutoML(self, request: pb.ListAutoMLRequest, context) -> pb.ListAutoMLResponse:
        return pb.ListAutoMLResponse(runs=[run_message(r) for r in self.service.all()])

    @unary
    async def CancelAutoML(self, request: pb.GetAutoMLRequest, context) -> pb.AutoMLRun:
        return run_message(self.service.cancel(request.run_id))


def run_message(run: JobRecord, full: bool = False) -> pb.AutoMLRun:
    result, request = run.result, dict(run.request)
    dataset = {k: v for k, v in request.pop("dataset").items() if v}
    message = pb.AutoMLRun(id=run.id, state=JOB_STATES[run.state], created=run.created, finished=run.finished,
                           elapsed_seconds=run.progress.get("elapsed", 0.0), model_id=run.model_id,
                           int8_model_id=result.get("int8_model_id", ""), best_trial=result.get("best_trial", -1),
                           quantization=result.get("quantization", ""), error=run.error, metric=request["metric"])
    # The stored request is the validated AutoMLConfig: what the proto has no field for (the profile's choices
    # are in `profile`) stays on the server.
    fields = pb.AutoMLRequest.DESCRIPTOR.fields_by_name
    message.request.CopyFrom(pb.AutoMLRequest(dataset=tpb.DatasetSource(**dataset),
                                              **{k: v for k, v in request.items() if k in fields}))
    message.exports.extend(tpb.ExportedModel(**e) for e in result.get("exports", []))
    if "profile" in result:
        ParseDict(result["profile"], message.profile)
    if full:
        message.leaderboard.extend(_trial(row) for row in result.get("leaderboard", []))
        message.log.extend(run.log)
    return message


def _trial(row: dict) -> pb.Trial:
    values = {k: v for k, v in row.items() if k in pb.Trial.DESCRIPTOR.fields_by_name and k != "state"}
    return pb.Trial(state=_TRIAL_STATES[row["state"]], **{k: finite(v) for k, v in values.items()})


def add_automl(server: grpc.aio.Server, service) -> str:
    """Register the AutoML service; resume unfinished runs; stop its trials when the server closes."""
    automl = AutoMLService(service.settings, service.zoo)
    automl_pb2_grpc.add_AutoMLServicer_to_server(AutoMLServicer(automl), server)
    service.on_start.append(automl.resume_unfinished)
    service.on_close.append(automl.close)  # AutoML's trial processes stop with the server
    return pb.DESCRIPTOR.services_by_name["AutoML"].full_name
