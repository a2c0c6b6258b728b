"""The OIP GRPCInferenceService servicer: decode tensors, call the data plane, encode the answer."""
from __future__ import annotations

import asyncio

import grpc

from bioclass.errors import BioclassError, InvalidArgument
from bioclass.oip import grpc_service_pb2 as pb
from bioclass.oip import grpc_service_pb2_grpc
from bioclass.server import limits
from bioclass.server.grpc.errors import streaming, unary
from bioclass.server.oip import tensors, tiles
from bioclass.server.oip.dataplane import OUTPUTS, EXTENSIONS, Inference, InferenceDataPlane
from bioclass.server.runner import Runner
from bioclass.server.service import ClassifierService

_STREAM_WINDOW = 16  # stream requests in flight at once, so a stream's requests batch together


class InferenceServicer(grpc_service_pb2_grpc.GRPCInferenceServiceServicer):
    def __init__(self, dataplane: InferenceDataPlane):
        self.dataplane = dataplane

    @unary
    async def ServerLive(self, request, context):
        return pb.ServerLiveResponse(live=True)

    @unary
    async def ServerReady(self, request, context):
        return pb.ServerReadyResponse(ready=True)

    @unary
    async def ModelReady(self, request, context):
        runner = self.dataplane.model(request.name, request.version)
        return pb.ModelReadyResponse(ready=self.dataplane.ready(runner))

    @unary
    async def ServerMetadata(self, request, context):
        return pb.ServerMetadataResponse(name=self.dataplane.server_name, version=self.dataplane.version,
                                         extensions=EXTENSIONS)

    @unary
    async def ModelMetadata(self, request, context):
        runner = self.dataplane.model(request.name, request.version)
        inputs, outputs = self.dataplane.metadata(runner)

        def specs(items):
            return [pb.ModelMetadataResponse.TensorMetadata(name=t.name, datatype=t.datatype, shape=t.shape)
                    for t in items]

        return pb.ModelMetadataResponse(name=runner.card.id, versions=self.dataplane.versions(runner),
                                        platform=f"bioclass_{runner.card.framework}",
                                        inputs=specs(inputs), outputs=specs(outputs))

    @unary
    async def ModelInfer(self, request, context):
        return await self._infer(request, "ModelInfer")

    @streaming
    async def ModelStreamInfer(self, request_iterator, context):
        pending: asyncio.Queue = asyncio.Queue(_STREAM_WINDOW)

        async def read() -> None:
            count = 0
            async for request in request_iterator:
                count += 1
                try:
                    limits.check_stream_length(count, self.dataplane.service.settings)
                except BioclassError as exc:
                    return await pending.put(exc)  # the stream ends with the error, after the answers before it
                await pending.put(asyncio.ensure_future(self._stream_answer(request)))
            await pending.put(None)

        reader = asyncio.ensure_future(read())
        try:
            while (task := await pending.get()) is not None:
                if isinstance(task, BioclassError):
                    raise task
                yield await task
            await reader
        finally:
            reader.cancel()

    async def _stream_answer(self, request: pb.ModelInferRequest) -> pb.ModelStreamInferResponse:
        """One stream answer; a failed request is reported in the stream, which goes on."""
        try:
            return pb.ModelStreamInferResponse(infer_response=await self._infer(request, "ModelStreamInfer"))
        except BioclassError as exc:
            return pb.ModelStreamInferResponse(error_message=f"{exc.code.name}: {exc.message}")

    async def _infer(self, request: pb.ModelInferRequest, method: str) -> pb.ModelInferResponse:
        runner = self.dataplane.model(request.model_name, request.model_version)
        parameters = _parameters(request.parameters)
        if tiles.requested(parameters):
            return await self._infer_tiles(request, runner, parameters)
        wanted = _requested_outputs(request)
        result = await self.dataplane.infer(runner, _inputs(request), method)
        return _response(request, runner, result, wanted)

    async def _infer_tiles(self, request: pb.ModelInferRequest, runner: Runner, parameters: dict):
        wanted = _requested_outputs(request, tiles.OUTPUTS)
        options = tiles.options(parameters)
        source = tiles.image(parameters, _inputs(request), self.dataplane.service.settings.max_pixels)
        answer = await tiles.infer(self.dataplane.service, f"{runner.card.id}@{runner.version}", source, options)
        return _tiles_response(request, runner, answer, wanted)

    @unary
    async def ModelStatistics(self, request, context):
        runners = ([self.dataplane.model(request.name, request.version)] if request.name
                   else self.dataplane.service.models())
        return pb.ModelStatisticsResponse(model_stats=[_statistics(r) for r in runners])

    @unary
    async def RepositoryIndex(self, request, context):
        return pb.RepositoryIndexResponse(models=[
            pb.RepositoryIndexResponse.ModelIndex(name=name, version=version, state=state, reason=reason)
            for name, version, state, reason in self.dataplane.index(request.ready)])

    @unary
    async def RepositoryModelLoad(self, request, context):
        await self.dataplane.model(request.model_name).load()
        return pb.RepositoryModelLoadResponse()

    @unary
    async def RepositoryModelUnload(self, request, context):
        await self.dataplane.model(request.model_name).unload()
        return pb.RepositoryModelUnloadResponse()


def _inputs(request: pb.ModelInferRequest) -> dict:
    raw = request.raw_input_contents
    if raw and len(raw) != len(request.inputs):
        raise InvalidArgument(f"{len(raw)} raw input contents for {len(request.inputs)} inputs")
    return {tensor.name: tensors.to_array(tensor.name, tensor.datatype, list(tensor.shape),
                                          raw[i] if raw else None, tensor.contents)
            for i, tensor in enumerate(request.inputs)}


def _parameters(parameters) -> dict:
    """Request parameters as Python values."""
    return {name: getattr(value, value.WhichOneof("parameter_choice")) for name, value in parameters.items()
            if value.WhichOneof("parameter_choice")}


def _requested_outputs(request: pb.ModelInferRequest, outputs: tuple[str, ...] = OUTPUTS) -> list[str]:
    names = [o.name for o in request.outputs] or list(outputs)
    unknown = sorted(set(names) - set(outputs))
    if unknown:
        raise InvalidArgument(f"unknown outputs {unknown}; the outputs are {list(outputs)}")
    return names


def _tiles_response(request, runner: Runner, answer: tiles.TiledInference, wanted: list[str]) -> pb.ModelInferResponse:
    response = pb.ModelInferResponse(model_name=runner.card.id, model_version=str(runner.version), id=request.id)
    probabilities = answer.result.prediction.probabilities
    for name in wanted:
        if name == "probability_map":
            array = answer.map.probabilities
        elif name == "probabilities":
            array = probabilities.reshape(1, -1)
        else:
            top = answer.result.prediction.top()
            response.outputs.add(name=name, datatype="BYTES", shape=[1])
            response.raw_output_contents.append(tensors.encode_strings([top[0][1] if top else ""]))
            continue
        response.outputs.add(name=name, datatype="FP32", shape=array.shape)
        response.raw_output_contents.append(array.astype("<f4", copy=False).tobytes())
    grid = answer.grid
    for key, value in (("rows", grid.rows), ("columns", grid.columns), ("tile_height", grid.tile[0]),
                       ("tile_width", grid.tile[1]), ("tiles_classified", answer.result.classified),
                       ("tiles_skipped", answer.result.skipped)):
        response.parameters[key].int64_param = value
    response.parameters["row_origins"].string_param = ",".join(map(str, grid.row_origins))
    response.parameters["column_origins"].string_param = ",".join(map(str, grid.column_origins))
    return response


def _response(request, runner: Runner, result: Inference, wanted: list[str]) -> pb.ModelInferResponse:
    response = pb.ModelInferResponse(model_name=runner.card.id, model_version=str(runner.version), id=request.id)
    batch = len(result.labels)
    for name in wanted:
        if name == "probabilities":
            response.outputs.add(name=name, datatype="FP32", shape=result.probabilities.shape)
            response.raw_output_contents.append(result.probabilities.astype("<f4", copy=False).tobytes())
        else:
            response.outputs.add(name=name, datatype="BYTES", shape=[batch])
            response.raw_output_contents.append(tensors.encode_strings(result.labels))
    return response


def _statistics(runner: Runner) -> pb.ModelStatistics:
    s = runner.stats

    def duration(d):
        return pb.StatisticDuration(count=d.count, ns=d.ns)

    return pb.ModelStatistics(
        name=runner.card.id, version=str(runner.version), last_inference=s.last_inference_ms,
        inference_count=s.inference_count, execution_count=s.execution_count,
        inference_stats=pb.InferStatistics(success=duration(s.success), fail=duration(s.fail),
                                           queue=duration(s.queue), compute_infer=duration(s.compute)),
        batch_stats=[pb.InferBatchStatistics(batch_size=size, compute_infer=duration(d))
                     for size, d in sorted(s.batches.items())],
    )


def add_inference_service(server: grpc.aio.Server, service: ClassifierService) -> str:
    grpc_service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(
        InferenceServicer(InferenceDataPlane(service)), server)
    return pb.DESCRIPTOR.services_by_name["GRPCInferenceService"].full_name
