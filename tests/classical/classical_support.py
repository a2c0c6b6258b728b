"""Constants and helpers shared by the classical tests (a plain module: conftest modules shadow each other)."""
from paths import DATASETS

TIFF16 = sorted((DATASETS / "tiff16-samples").glob("*.tif"))
JURKAT = DATASETS / "jurkat-cell-cycle"
MALARIA = DATASETS / "malaria-cells-50"
PER_CLASS = 12


class Reporter:
    """What a job reports, kept for the test to read (the job process's pipe, in memory)."""

    def __init__(self):
        self.lines: list[str] = []

    def log(self, line: str) -> None:
        self.lines.append(line)

    def progress(self, **values) -> None:
        pass

    def check(self) -> None:
        pass


def run_job(root, job_dir, server_dir: str, model_id: str, **plan):
    """The classical AutoML job run in this process on ROOT: (plan, result, reporter)."""
    from bioclass.server.classical import train
    from bioclass.server.training.config import DatasetSpec, TrainConfig

    job = train.Plan(job_id=model_id, job_dir=job_dir, dataset_root=root, spec=DatasetSpec(server_dir=server_dir),
                     model_id=model_id, config=TrainConfig(arch=train.ARCH, val_fraction=0.2, test_fraction=0.0,
                                                           threads=1), **plan)
    reporter = Reporter()
    return job, train.run(job, reporter), reporter


def oip_infer(address: str, model: str, batch, datatype: str):
    """The server's OIP answer (tritonclient) for a batch of raw images [B, H, W, C]."""
    import tritonclient.grpc as tg

    tensor = tg.InferInput("image", list(batch.shape), datatype)
    tensor.set_data_from_numpy(batch)
    client = tg.InferenceServerClient(address)
    try:
        return client.infer(model, [tensor])
    finally:
        client.close()
