"""The bioclass.v1.Classifier servicer: decode the request, call the service, encode the answer."""
from __future__ import annotations

from collections.abc import AsyncIterator

from bioclass.errors import InvalidArgument, ResourceExhausted
from bioclass.server.grpc import convert, convert_tiles
from bioclass.server.grpc.errors import one_line, streaming, unary
from bioclass.server.service import ClassifierService
from bioclass.server.tile_prediction import TileGrid, TileRow
from bioclass.v1 import classifier_pb2 as pb
from bioclass.v1 import classifier_pb2_grpc


class ClassifierServicer(classifier_pb2_grpc.ClassifierServicer):
    def __init__(self, service: ClassifierService):
        self.service = service

    @unary
    async def ListFrameworks(self, request, context):
        return pb.ListFrameworksResponse(frameworks=[convert.framework(f, loaded) for f, loaded in self.service.frameworks()])

    @unary
    async def ListModels(self, request, context):
        runners = self.service.models(request.framework, list(request.tags), request.versions)
        problems = [pb.ZooProblem(path=p.path, reason=p.reason) for p in self.service.zoo.problems]
        zoo = self.service.zoo
        return pb.ListModelsResponse(models=[convert.summary(r, zoo.is_default(r)) for r in runners],
                                     problems=problems)

    @unary
    async def GetModel(self, request, context):
        return self._card(self.service.model(request.model_id))

    @unary
    async def SetDefaultVersion(self, request, context):
        return self._card(await self.service.set_default_version(request.model_id, request.version))

    def _card(self, runner) -> pb.ModelCard:
        zoo = self.service.zoo
        return convert.model_card(runner, zoo.is_default(runner), sorted(zoo.versions.get(runner.card.id, {})))

    @unary
    async def Predict(self, request, context):
        explain = convert.explain_options(request.explain) if request.HasField("explain") else None
        result = await self.service.predict(request.model_id, request.image, request.top_k, explain)
        return pb.PredictResponse(prediction=convert.prediction(result))

    @unary
    async def Explain(self, request, context):
        result = await self.service.explain(request.model_id, request.image,
                                            convert.explain_options(request.options), request.top_k)
        prediction = convert.prediction(result)
        explanation = pb.Explanation()
        explanation.CopyFrom(prediction.explanation)
        prediction.ClearField("explanation")  # the map travels once
        return pb.ExplainResponse(prediction=prediction, explanation=explanation)

    @streaming
    async def PredictStream(self, request_iterator, context):
        async def requests():
            async for request in request_iterator:
                explain = convert.explain_options(request.explain) if request.HasField("explain") else None
                yield request.model_id, request.image, request.top_k, explain

        async for index, result in self.service.predict_stream(requests()):
            if isinstance(result, Exception):
                yield pb.PredictStreamResponse(index=index, error=pb.ItemError(code=result.code.name,
                                                                               message=one_line(result.message)))
            else:
                yield pb.PredictStreamResponse(index=index, prediction=convert.prediction(result))

    @unary
    async def Evaluate(self, request_iterator, context):
        config, items = await _opened(request_iterator, "config", "sample",
                                      "the first Evaluate message must carry the configuration",
                                      "only labelled images may follow the configuration")
        samples = ((sample.image, sample.label) async for sample in items)
        result = await self.service.evaluate(list(config.model_ids), config.top_k, config.dataset_dir,
                                             None if config.dataset_dir else samples)
        return convert.evaluation(result)

    @unary
    async def RegisterModel(self, request_iterator, context):
        header, weights = await self._receive_upload(request_iterator, "RegisterModel")
        runner = await self.service.register(header.card_yaml, weights, header.sha256, header.overwrite,
                                             header.new_version)
        return self._card(runner)

    @unary
    async def ImportBioimageio(self, request_iterator, context):
        header, package = await self._receive_upload(request_iterator, "ImportBioimageio")
        runner = await self.service.import_bioimageio(package, header.model_id, header.overwrite,
                                                      header.sha256)
        return self._card(runner)

    @streaming
    async def ExportBioimageio(self, request, context):
        package, file_name = await self.service.export_bioimageio(request.model_id)
        step = 1024 * 1024
        for start in range(0, max(1, len(package)), step):
            yield pb.PackageChunk(data=package[start:start + step], file_name=file_name if start == 0 else "",
                                  last=start + step >= len(package))

    @streaming
    async def PredictTiles(self, request_iterator, context):
        header, chunks = await _opened(request_iterator, "header", "chunk",
                                       "the first PredictTiles message must be the header",
                                       "only chunks of the uploaded file may follow the PredictTiles header")
        options = convert_tiles.tile_options(header.options)
        async for item in self.service.predict_tiles(header.model_id, convert_tiles.tiled_image(header, chunks),
                                                     options):
            if isinstance(item, TileGrid):
                grid = item
                yield convert_tiles.grid(item)
            elif isinstance(item, TileRow):
                yield convert_tiles.row(item, grid.labels, grid.top_k)
            else:
                yield convert_tiles.summary(item)

    async def _receive_upload(self, request_iterator, method: str):
        """(header, bytes) of a header-then-chunks upload, bounded by the server's upload limit."""
        header, data = None, bytearray()
        limit = self.service.settings.max_upload_bytes
        async for request in request_iterator:
            kind = request.WhichOneof("item")
            if header is None:
                if kind != "header":
                    raise InvalidArgument(f"the first {method} message must be the header")
                header = request.header
            elif kind == "chunk":
                data.extend(request.chunk)
                if len(data) > limit:
                    raise ResourceExhausted(f"upload exceeds the server limit of {limit} bytes")
            else:
                raise InvalidArgument("only chunks may follow the header")
        if header is None:
            raise InvalidArgument(f"{method} received no header")
        return header, bytes(data)


async def _opened(request_iterator, opening: str, following: str, not_opened: str, not_following: str
                  ) -> tuple[object, AsyncIterator]:
    """A client stream's first message (its `opening` item) and the `following` items after it; any other
    message is INVALID_ARGUMENT with the matching reason."""
    first = await anext(aiter(request_iterator), None)
    if first is None or first.WhichOneof("item") != opening:
        raise InvalidArgument(not_opened)

    async def rest() -> AsyncIterator:
        async for request in request_iterator:
            if request.WhichOneof("item") != following:
                raise InvalidArgument(not_following)
            yield getattr(request, following)

    return getattr(first, opening), rest()
