"""Training as a service: jobs that turn a labelled image folder into a served model.

Server side (never imports torch): service.py (what each RPC does), scheduler.py (queue, one
spawned process per job, states), store.py (job history in SQLite), datasets.py and archives.py
(uploads, safe extraction, validation, splits), shared.py (what Training and AutoML share: dataset
root, model-id rule, helper process, watchers), checks.py (torch-dependent checks, run in the
helper process). Job process: worker.py (reports over a pipe), job.py (dataset to exported model),
steps.py (the steps every job runs: loop, training, evaluation, export), distill.py with pseudo.py
and topology.py (semi-supervised training: teachers, pseudo-labels, a student), data.py (serving
preprocessing, augmentation), networks.py, recipe.py (ATLASS recipe), export.py (TorchScript, ONNX,
int8, card), plots.py, augment.py (CLoDSA-style lists).
"""
