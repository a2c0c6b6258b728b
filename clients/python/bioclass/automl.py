"""AutoML from the Python client: `Client(address).automl.start("my_dataset/", budget_minutes=10)`.

A local dataset folder is uploaded first (as for training); a folder already on the server is
named with on_server=True.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc

from bioclass.errors import from_rpc_error
from bioclass.training import TrainingClient, queue_timeout
from bioclass.v1 import automl_pb2 as pb
from bioclass.v1 import automl_pb2_grpc
from bioclass.v1 import training_pb2 as tpb


def trial_state_name(state: int) -> str:
    return pb.TrialState.Name(state).removeprefix("TRIAL_").lower()


class AutoMLClient:
    """The AutoML service over an existing channel; failed calls raise BioclassError subclasses."""

    def __init__(self, channel: grpc.Channel, timeout: float | None = 60.0):
        self._stub = automl_pb2_grpc.AutoMLStub(channel)
        self._training = TrainingClient(channel, timeout)
        self.timeout = timeout

    def start(self, dataset: str | Path, budget_minutes: float, *, on_server: bool = False, dataset_id: str = "",
              unlabelled_dir: str = "", group_pattern: str = "", splits_csv: str = "", labels_csv: str = "",
              **options) -> pb.AutoMLRun:
        """Start a run; `options` takes AutoMLRequest's fields (metric=..., architectures=[...],
        ray_address="head:6379" to run its trials on that Ray cluster, ...)."""
        if not dataset_id and not on_server:
            dataset_id = self._training.upload_dataset(dataset).id
        source = tpb.DatasetSource(unlabelled_dir=unlabelled_dir, group_pattern=group_pattern,
                                   splits_csv=splits_csv, labels_csv=labels_csv)
        if dataset_id:
            source.dataset_id = dataset_id
        else:
            source.server_dir = str(dataset)
        request = pb.AutoMLRequest(dataset=source, budget_minutes=budget_minutes, **options)
        return self._call(self._stub.StartAutoML, request, timeout=queue_timeout(self.timeout))

    def watch(self, run_id: str) -> Iterator[pb.AutoMLRun]:
        """The run after every change (its live leaderboard) until it ends."""
        try:
            yield from self._stub.WatchAutoML(pb.WatchAutoMLRequest(run_id=run_id))
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None

    def wait(self, run_id: str) -> pb.AutoMLRun:
        for _ in self.watch(run_id):
            pass
        return self.run(run_id)

    def run(self, run_id: str) -> pb.AutoMLRun:
        return self._call(self._stub.GetAutoML, pb.GetAutoMLRequest(run_id=run_id))

    def runs(self) -> list[pb.AutoMLRun]:
        return list(self._call(self._stub.ListAutoML, pb.ListAutoMLRequest()).runs)

    def cancel(self, run_id: str) -> pb.AutoMLRun:
        return self._call(self._stub.CancelAutoML, pb.GetAutoMLRequest(run_id=run_id))

    def _call(self, method, request, timeout: float | None | str = "default"):
        try:
            return method(request, timeout=self.timeout if timeout == "default" else timeout)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None
