"""Queueing a job checks its whole dataset on the server first: the call must not fail on the
client's usual short deadline (it did, as DEADLINE_EXCEEDED, for a large folder)."""
from PIL import Image

from models import solid_image


def test_a_short_client_deadline_does_not_cut_a_train_start(server, tmp_path):
    from bioclass.client import Client
    from bioclass.training import state_name

    for label, value in (("bright", 0.9), ("dark", 0.1)):
        (tmp_path / label).mkdir()
        for i in range(4):
            Image.fromarray(solid_image(value)).save(tmp_path / label / f"{i}.png")
    with Client(server.address, timeout=0.001) as hasty:  # shorter than any real call
        job_id = hasty.training.train(tmp_path, on_server=True, epochs=1, max_seconds=1)
    with Client(server.address) as client:
        cancelled = client.training.cancel(job_id)
    assert cancelled.id == job_id and state_name(cancelled.state) in ("queued", "running", "cancelled")
