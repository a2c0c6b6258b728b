"""What the Train tab shows of a job's updates, from real Training API messages."""
from __future__ import annotations

from bioclass.v1 import classifier_pb2, training_pb2 as pb
from napari_bioclass.training_run import outcome, progress_of


def test_progress_counts_steps_over_all_epochs():
    update = pb.JobUpdate(job_id="j", state=pb.JOB_RUNNING,
                          progress=pb.Progress(stage="train", epoch=2, epochs=3, step=1, steps=4, loss=0.5))
    assert progress_of(update) == (5, 12, "training: epoch 2/3, step 1/4, loss 0.500")


def test_progress_without_steps_is_busy():
    update = pb.JobUpdate(job_id="j", state=pb.JOB_RUNNING, progress=pb.Progress(stage="export"))
    assert progress_of(update) == (0, 0, "exporting")
    assert progress_of(pb.JobUpdate(job_id="j", state=pb.JOB_QUEUED)) == (0, 0, "starting")


def test_outcome_of_finished_jobs():
    done = pb.Job(id="j", state=pb.JOB_SUCCEEDED, model_id="m",
                  test_metrics=classifier_pb2.ModelEvaluation(accuracy=0.75))
    assert outcome(done) == "Trained m (held-out accuracy 0.75); it is in the model list."
    assert outcome(pb.Job(id="j", state=pb.JOB_FAILED, error="out of memory")) == "Job j failed: out of memory"
    assert outcome(pb.Job(id="j", state=pb.JOB_CANCELLED)) == "Job j cancelled."
