"""AutoML runs that name a Ray cluster (`bioclass automl ... --ray ADDRESS`) on a server started
without --ray: a wrong address is refused at once with one line; the right one makes the server
join that cluster and run the trials there as Ray Tune trials; another address after that is
refused, naming both.

Runs first in this folder (file order), while both nodes are free: the serving tests' replicas
are not deployed yet."""
from __future__ import annotations

import re
import time

import pytest

from bioclass.client import Client
from bioclass.errors import FailedPrecondition, InvalidArgument, Unavailable
from bioclass.training import state_name
from ray_support import free_port, tune_trials
from server_process import ServerProcess

SEARCH = dict(architectures=["mobilenetv3_small_050"], image_sizes=[32], threads=1, semi_supervised_modes=["none"])
ENV = {"BIOCLASS_RAY_TRIALS": "2", "BIOCLASS_RAY_TRIAL_CPUS": "1"}


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp("plain-work")
    process = ServerProcess("--no-builtin", work_dir=work_dir, env=ENV)
    yield process
    process.stop()


@pytest.mark.parametrize("address, error", [(f"127.0.0.1:{free_port()}", Unavailable),
                                            ("no-port-here", InvalidArgument)])
def test_a_wrong_address_is_refused_at_once_with_one_line(plain_server, tiny_dataset, address, error):
    with Client(plain_server.address) as client:
        started = time.monotonic()
        with pytest.raises(error) as refused:
            client.automl.start(tiny_dataset, 1.0, ray_address=address, **SEARCH)
    assert time.monotonic() - started < 15
    assert address in str(refused.value) and "\n" not in str(refused.value)
    assert "Traceback" not in plain_server.log


def test_a_server_not_on_ray_runs_the_run_on_the_cluster_it_names(cluster, plain_server, tiny_dataset):
    with Client(plain_server.address) as client:
        run = client.automl.start(tiny_dataset, 1.0, ray_address=cluster.address, model_id="joined", **SEARCH)
        run = client.automl.wait(run.id)
        with pytest.raises(FailedPrecondition) as refused:  # the server has joined one cluster
            client.automl.start(tiny_dataset, 1.0, ray_address=f"127.0.0.1:{free_port()}", **SEARCH)

    assert state_name(run.state) == "succeeded", run.error
    assert f"joined the Ray cluster at {cluster.address}" in plain_server.log
    nodes = set(re.findall(r"ran on Ray node (\w+) as Tune trial \w+", "\n".join(run.log)))
    assert nodes and nodes <= set(cluster.ids.values()), run.log
    results = [trial / "result.json" for trial in tune_trials(plain_server.work_dir, run.id)]
    # the trial the budget cut off as it started has a folder but no result yet
    assert any(result.is_file() and result.stat().st_size for result in results), results
    assert cluster.address in str(refused.value)
