"""The transport-neutral AutoML service: start, watch, list and cancel runs; drive their searches.

A run is a record in work_dir/automl/runs.sqlite3 (the training job store's class) and an Optuna
study in work_dir/automl/<run>/study.sqlite3. Trials are training jobs run by the training
scheduler in their own processes, or as Ray Tune trials on a cluster (server/ray/trials.py) when
the server was started with --ray or the run asks for one; the server process only asks, watches,
prunes and tells. A run left unfinished by a stopped server resumes at start with the budget it
had left.
"""
from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path

from bioclass.errors import FailedPrecondition, InvalidArgument, Unavailable
from bioclass.server.automl.budget import Budget
from bioclass.server.automl.request import AutoMLConfig, validated_request
from bioclass.server import limits
from bioclass.server.automl.folders import INT8_SUFFIX, classical_folder, model_folder
from bioclass.server.cards import read_card
from bioclass.server.classical.spec import ARCHITECTURES as CLASSICAL
from bioclass.server.classical.spec import FROZEN_PREFIX, FROZEN_SIZE
from bioclass.server.classical.spec import JOB_ARCH as CLASSICAL_JOB
from bioclass.server.settings import Settings
from bioclass.server.training import checks, datasets, shared
from bioclass.server.training.config import TrainConfig
from bioclass.server.training.scheduler import Scheduler
from bioclass.server.training.store import CANCELLED, FAILED, RUNNING, SUCCEEDED, JobRecord, JobStore
from bioclass.server.zoo import ModelZoo

log = logging.getLogger(__name__)
PERSIST_S = 2.0


class AutoMLService:
    def __init__(self, settings: Settings, zoo: ModelZoo):
        self.settings, self.zoo = settings, zoo
        self.folder = settings.work_dir / "automl"
        self.runs = JobStore(self.folder / "runs.sqlite3")
        self.trials = JobStore(self.folder / "trials.sqlite3")
        self.trials.interrupt_unfinished()
        self.local = Scheduler(self.trials, self.folder / "trials", 1, _keep_unserved,
                               cancel_grace_s=settings.job_cancel_grace_s)
        self.ray: Scheduler | None = None  # trials on the Ray cluster: the server's, or the first a run asked for
        self.ray_address = settings.ray_address or ""
        if self.ray_address:
            self.ray = _ray_scheduler(settings, self.trials, self.folder / "trials")
        self._joining = asyncio.Lock()
        self.watchers = shared.Watchers()
        self.cancelled: set[str] = set()
        self.persisted: dict[str, float] = {}  # when each run's leaderboard was last written
        self.tasks: dict[str, asyncio.Task] = {}
        self._helper = shared.HelperProcess()

    # ---- calls -------------------------------------------------------------------------------

    async def start(self, values: dict) -> JobRecord:
        request = validated_request(values)
        limits.check_automl(request, self.settings)
        await self._scheduler(request)  # a run asking for a cluster the server cannot use fails here
        root = self._root(request)
        await asyncio.to_thread(self._check_dataset, root, request)
        for arch in request.architectures:
            if arch not in CLASSICAL:  # classical names are checked with the request
                await self._helper.run(checks.check_request, arch.removeprefix(FROZEN_PREFIX), "")
        if request.model_id:
            shared.check_model_id(request.model_id, self.zoo, request.overwrite, suffixes=("", INT8_SUFFIX))
        run = self.runs.create(request.model_dump(mode="json"))  # stored as asked, so a restart resumes it
        model_id = request.model_id or f"automl-{run.id}"
        self.runs.update(run, model_id=model_id, state=RUNNING, started=time.time(),
                         progress={"elapsed": 0.0}, result={"leaderboard": []})
        self._launch(run)
        return run

    def resume_unfinished(self) -> None:
        """Runs a stopped server left queued or running carry on with the budget they had left."""
        for run in self.runs.all():
            if not run.done:
                run.log = [*run.log, "resumed after a server restart"]
                self._launch(run)

    def run(self, run_id: str) -> JobRecord:
        if not run_id:
            raise InvalidArgument("run_id is required")
        return self.runs.get(run_id)

    def all(self) -> list[JobRecord]:
        return self.runs.all()

    def cancel(self, run_id: str) -> JobRecord:
        run = self.run(run_id)
        if run.done:
            raise FailedPrecondition(f"AutoML run {run_id} has already finished ({run.state})")
        self.cancelled.add(run_id)
        for scheduler in filter(None, (self.local, self.ray)):
            for job_id in [j for j in scheduler.running if scheduler.plans.get(j, {}).get("group") == run_id]:
                scheduler.cancel(job_id)
        return run

    async def watch(self, run_id: str) -> AsyncIterator[JobRecord]:
        run = self.run(run_id)
        queue = self.watchers.subscribe(run_id)
        try:
            yield run
            while not run.done:
                run = await queue.get()
                yield run
        finally:
            self.watchers.unsubscribe(run_id, queue)

    # ---- checks ------------------------------------------------------------------------------

    def _root(self, request: AutoMLConfig) -> Path:
        return shared.dataset_root(request.dataset, self.settings)

    def _check_dataset(self, root: Path, request: AutoMLConfig) -> None:
        samples, _ = datasets.resolve_samples(root, request.dataset)
        datasets.assign_splits(root, samples, request.dataset, _split_config(request))

    async def _scheduler(self, request: AutoMLConfig) -> Scheduler:
        """Where the run's trials go: the Ray cluster the server is on or the run asks for, else local processes."""
        asked = request.ray_address
        async with self._joining:
            if asked and self.ray_address and asked not in _known_addresses(self.ray_address):
                raise FailedPrecondition(f"this server runs AutoML trials on the Ray cluster at {self.ray_address}; "
                                         f"the run asks for {asked}")
            if asked and self.ray is None:
                await asyncio.to_thread(_join_cluster, asked)
                self.ray_address = asked
                self.ray = _ray_scheduler(self.settings, self.trials, self.folder / "trials")
        return self.ray if self.ray_address and (asked or self.settings.ray_address) else self.local

    # ---- driving a run -----------------------------------------------------------------------

    def _launch(self, run: JobRecord) -> None:
        task = asyncio.get_running_loop().create_task(self._drive(run))
        self.tasks[run.id] = task
        task.add_done_callback(lambda _: self.tasks.pop(run.id, None))

    async def _drive(self, run: JobRecord) -> None:
        request = _request(run)
        total = request.budget_minutes * 60
        budget = Budget(deadline=time.monotonic() + total - run.progress.get("elapsed", 0.0), total_s=total)
        clock = (time.monotonic(), run.progress.get("elapsed", 0.0))
        try:
            scheduler = await self._scheduler(request)
            search = _search()
            await self._profile(run)
            request = _request(run)  # with the choices the profile made
            budget.plan_end(search.cross_validates(run.result["profile"]), bool(search.networks(request)))
            study = await asyncio.to_thread(search.open_study, self.folder / run.id / "study.sqlite3", request.seed)
            await asyncio.to_thread(search.start_from_known_recipe, study, request)
            budget.network_finished = search.has_network_result(study)  # a resumed run keeps its end phase
            self._changed(run, study, clock, force=True)
            with scheduler.group(run.id, self.folder / run.id / "tune"):
                if search.classical_heads(request) and not search.has_classical(study):
                    await self._classical(run, study, budget, clock, scheduler)
                if search.frozen_backbones(request) and not search.has_frozen(study):
                    await self._frozen(run, study, budget, clock, scheduler)
                if search.networks(request):
                    await self._search(run, study, budget, clock, scheduler)
                    if search.cross_validates(run.result["profile"]):
                        await self._finalists(run, study, budget, clock, scheduler)
                await self._finish(run, study, clock, budget, scheduler)
        except asyncio.CancelledError:
            raise  # the server is stopping: the run stays running and resumes at the next start
        except Exception as exc:  # noqa: BLE001 - a failure ends the run with its reason, never the server
            log.exception("AutoML run %s", run.id)
            self._end(run, FAILED, clock, error=getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}")

    async def _profile(self, run: JobRecord) -> dict:
        """Read the dataset once (a resumed run keeps its profile) and fill the choices the request left open."""
        from bioclass.server.automl import profile, shape

        if "profile" not in run.result:
            found = await self._helper.run(profile.profile_dataset, str(self._root(_request(run))),
                                          run.request["dataset"])
            run.result = {**run.result, "profile": found}
            for line in profile.describe(found):
                self._log(run, line)
            request, reasons = shape.shaped_request(run.request, found)
            self.runs.update(run, request=request, result=run.result)
            for line in reasons:
                self._log(run, line)
        return run.request

    async def _search(self, run: JobRecord, study, budget: Budget, clock, scheduler: Scheduler) -> None:
        """Keep as many trials running as the scheduler has slots (one here; more on a Ray cluster)."""
        running: set[asyncio.Task] = set()
        try:
            while True:
                while len(running) < scheduler.slots and run.id not in self.cancelled and budget.can_start_trial():
                    running.add(asyncio.ensure_future(self._trial(run, study, budget, clock, scheduler)))
                if not running:
                    return
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()  # a failed trial driver fails the run
        finally:
            for task in running:
                task.cancel()

    async def _trial(self, run: JobRecord, study, budget: Budget, clock, scheduler: Scheduler) -> None:
        request = _request(run)
        trial = study.ask()
        few = _search().cross_validates(run.result.get("profile", {}))
        values = _search().trial_config(trial, request, budget.trial_seconds(), f"{run.id}-trial-{trial.number}", few)
        seconds = values["max_seconds"] = budget.trial_seconds(semi_supervised=bool(values["semi_supervised"]))
        config = TrainConfig.model_validate(values)
        job = self.trials.create({"dataset": request.dataset.model_dump(), "config": config.model_dump(mode="json")})
        trial.set_user_attr("job_id", job.id)
        self._log(run, f"trial {trial.number}: {config.arch} {trial.params} for {seconds:.0f} s of training")
        plan = self._plan(run, job, config)
        started = time.monotonic()
        queue = scheduler.subscribe(job.id)
        scheduler.submit(job, plan)
        try:
            pruned = await self._follow(run, study, trial, job, queue, budget, clock, scheduler)
        finally:
            scheduler.unsubscribe(job.id, queue)
        finished = scheduler.job(job.id)
        if finished.result.get("tune_trial"):
            self._log(run, f"trial {trial.number}: ran on Ray node {finished.result['node']} as Tune trial "
                           f"{finished.result['tune_trial']} (attempt {finished.result['attempts']})")
        self._tell(run, study, trial, finished, pruned, time.monotonic() - started, budget)
        self._changed(run, study, clock, force=True)

    def _plan(self, run: JobRecord, job: JobRecord, config: TrainConfig) -> dict:
        request = _request(run)
        return {"job_id": job.id, "job_dir": str(self.folder / "trials" / job.id),
                "dataset_root": str(self._root(request)), "spec": request.dataset.model_dump(),
                "config": config.model_dump(mode="json"), "model_id": config.model_id, "group": run.id}

    async def _classical(self, run: JobRecord, study, budget: Budget, clock, scheduler: Scheduler) -> None:
        """One job computes the handcrafted features once and validates every classical head; each head
        then joins the study as a finished trial, ranked with the networks by the same metric."""
        search, request = _search(), _request(run)
        seconds = budget.classical_seconds(alone=not search.networks(request))
        config = TrainConfig(arch=CLASSICAL_JOB, model_id=f"{run.id}-classical", max_seconds=seconds,
                             val_fraction=request.val_fraction, test_fraction=0.0, seed=request.seed,
                             threads=request.threads, imbalance=search.imbalance(request))
        self._log(run, f"classical candidates ({', '.join(search.classical_heads(request))}) on handcrafted "
                       f"features, for at most {seconds:.0f} s")
        finished, wall = await self._job(run, study, config, budget, clock, scheduler, "classical candidates",
                                         heads=search.classical_heads(request))
        if finished.state != SUCCEEDED:
            return self._log(run, f"classical candidates: {finished.state}: {finished.error}")
        budget.measured(wall, finished.result["seconds"])
        for trial in search.classical_trials(finished.result, request, finished.id):
            study.add_trial(trial)
            self._log(run, f"trial {study.trials[-1].number}: {trial.user_attrs['architecture']}: "
                           f"{search.estimate_text(study.trials[-1], request.metric)}")
        self._changed(run, study, clock, force=True)

    async def _frozen(self, run: JobRecord, study, budget: Budget, clock, scheduler: Scheduler) -> None:
        """Each frozen:<backbone> candidate is one job: pretrained features, a logistic regression validated on
        the classical candidates' folds; it joins the study as a finished trial. Without pretrained weights
        it is skipped with the reason in one line."""
        search, request = _search(), _request(run)
        for number, backbone in enumerate(search.frozen_backbones(request)):
            what = f"{FROZEN_PREFIX}{backbone}"
            found, lines = await self._helper.run(checks.pretrained_weights, backbone)  # not a job's start-up
            for line in lines[:-1] if found == "none" else lines:
                self._log(run, f"{what}: {line}")
            if found == "none":
                self._log(run, f"{what}: skipped: {lines[-1] if lines else 'no pretrained weights'} "
                               "(random-init features are not worth the time)")
                continue
            scale = "percentile" if "percentile" in request.scales else (request.scales or ["range"])[0]
            config = TrainConfig(arch=what, model_id=f"{run.id}-frozen-{number}", image_size=(FROZEN_SIZE,) * 2,
                                 max_seconds=budget.classical_seconds(alone=not search.networks(request)),
                                 scale=scale, pages=request.pages, val_fraction=request.val_fraction,
                                 test_fraction=0.0, seed=request.seed, threads=request.threads,
                                 imbalance=search.imbalance(request))
            finished, _ = await self._job(run, study, config, budget, clock, scheduler, what)
            if finished.state != SUCCEEDED:
                self._log(run, f"{what}: {finished.state}: {finished.error}")
            elif finished.result.get("skipped"):  # the weights went away between the check and the job
                self._log(run, f"{what}: skipped: {finished.result['skipped']} "
                               "(random-init features are not worth the time)")
            else:
                study.add_trial(search.frozen_trial(finished.result, request, finished.id, backbone))
                self._log(run, f"trial {study.trials[-1].number}: {what} features + logistic regression: "
                               f"{search.estimate_text(study.trials[-1], request.metric)}")
                self._changed(run, study, clock, force=True)

    async def _finalists(self, run: JobRecord, study, budget: Budget, clock, scheduler: Scheduler) -> None:
        """Re-score the best network trials by k-fold cross-validation on the folds the classical candidates
        had: on a few dozen images one validation split cannot rank them. Estimates go to run.result."""
        search, request = _search(), _request(run)
        folds = self._plan_end(run, study, budget)
        estimates = dict(run.result.get("estimates", {}))
        chosen = search.finalists(study, estimates)
        if not chosen:
            return
        ahead = search.candidate_ahead_of_networks(study)
        if ahead is not None:
            return self._log(run, f"the best network trials are not cross-validated: trial {ahead.number} "
                                  f"({ahead.user_attrs['architecture']}) is ahead of them")
        if folds < 2:
            return self._log(run, f"the best network trials are not cross-validated: {FEWEST_FOLDS} folds of "
                                  "the best would not fit the run's end phase with its retraining")
        jobs = {t.number: self.trials.get(t.user_attrs["job_id"]) for t in chosen}
        retraining_s = budget.overhead_s + max(_retraining_estimate(j, request) for j in jobs.values())
        self._log(run, f"cross-validating the best network trials ({', '.join(str(t.number) for t in chosen)}) "
                       f"in {folds} folds, as far as the time allows")
        for trial in chosen:
            trial_config = jobs[trial.number].request["config"]
            fold_training_s = _retraining_estimate(jobs[trial.number], request) * (folds - 1) / folds
            seconds = budget.fold_seconds(fold_training_s, trial_config["max_seconds"], folds, retraining_s)
            if not seconds or run.id in self.cancelled:
                self._log(run, f"trial {trial.number}: not cross-validated: the run's end phase is spent")
                break
            # Each fold trains as the served model will be retrained: the epochs its trial kept, no early stop.
            epochs = search.best_epochs(jobs[trial.number].result.get("history", []))
            config = TrainConfig.model_validate({**trial_config, "cross_validate": True, "epochs": epochs,
                                                 "patience": -1, "max_seconds": seconds, "folds": folds,
                                                 "model_id": f"{run.id}-cv-{trial.number}"})
            finished, wall = await self._job(run, study, config, budget, clock, scheduler,
                                             f"cross-validation of trial {trial.number}", left=budget.end_left)
            if finished.state != SUCCEEDED:
                self._log(run, f"cross-validation of trial {trial.number}: {finished.state}: {finished.error}")
                continue
            budget.measured_folds(wall, finished.result["training_seconds"], finished.result["folds"])
            estimates[str(trial.number)] = found = search.estimate(finished.result, request)
            run.result = {**run.result, "estimates": estimates}
            self._log(run, f"trial {trial.number}: {request.metric} {found['metric']:.4f} ± {found['metric_sd']:.4f} "
                           f"({found['folds']} folds, at most {seconds:.0f} s of training each; "
                           f"{trial.user_attrs['metric']:.4f} on its split)")
            self._changed(run, study, clock, force=True)

    def _plan_end(self, run: JobRecord, study, budget: Budget) -> int:
        """Size the end phase from the best network trial so far: its retraining and, on a small dataset, its
        cross-validation in as many folds as fit (FEWEST_FOLDS when the profile's do not); nothing while a
        classical or frozen-features candidate is ahead of every network. The folds; 0: none."""
        search, request = _search(), _request(run)
        best = search.finalists(study, {}, count=1)
        if not best:
            return 0
        if search.candidate_ahead_of_networks(study) is not None:  # it is served as it is: no retraining
            return budget.plan_need(None, [])
        retraining_s = _retraining_estimate(self.trials.get(best[0].user_attrs["job_id"]), request)
        profile = run.result.get("profile", {})
        most = search.expected_folds(profile) if search.cross_validates(profile) else 0
        options = sorted({most, min(most, FEWEST_FOLDS)}) if most >= 2 else []
        return budget.plan_need(retraining_s, options)

    async def _retrained(self, run: JobRecord, study, best, budget: Budget, clock, scheduler: Scheduler) -> JobRecord | None:
        """The chosen configuration trained again on all labelled images (its validation split too) for the
        epochs its trial's early stopping kept. None, with the reason logged, when the trial's own export is
        served instead: a run too short for an end phase, a semi-supervised trial, no time left, a failure."""
        search, request = _search(), _request(run)
        trial_job = self.trials.get(best.user_attrs["job_id"])
        config = trial_job.request["config"]
        why = ("the run is too short for retraining" if not budget.end_share
               else "retraining a semi-supervised trial is not supported" if config.get("semi_supervised")
               else "cancelled" if run.id in self.cancelled else "")
        needed = _retraining_estimate(trial_job, request)
        seconds = 0.0 if why else budget.retrain_seconds(needed, config["max_seconds"] / (1.0 - request.val_fraction))
        if not why and not seconds:
            why = (f"the run's end phase has {max(0.0, budget.end_left() - budget.overhead_s):.0f} s left, "
                   f"less than the about {needed:.0f} s its trial trained")
        if why:
            self._log(run, f"not retrained on all images ({why}): serving trial {best.number}'s own export")
            return None
        epochs = search.best_epochs(trial_job.result.get("history", []))
        retrain = TrainConfig.model_validate({**config, "train_on_all": True, "epochs": epochs, "patience": -1,
                                              "max_seconds": seconds, "model_id": f"{run.id}-retrained"})
        finished, wall = await self._job(run, study, retrain, budget, clock, scheduler, f"retraining trial {best.number}",
                                         left=budget.end_left)
        if finished.state != SUCCEEDED:
            self._log(run, f"retraining trial {best.number} on all images {finished.state}: {finished.error}; "
                           "serving the trial's own export")
            return None
        images = sum(n for key, n in finished.result["counts"].items() if key.startswith("train/"))
        run.result = {**run.result, "retrained": {"trial": best.number, "images": images, "epochs": epochs}}
        self._log(run, f"retrained trial {best.number}'s configuration on all {images} labelled images for "
                       f"{epochs} epochs ({wall:.0f} s)")
        return finished

    async def _job(self, run: JobRecord, study, config: TrainConfig, budget: Budget, clock, scheduler: Scheduler,
                   what: str, left=None, **plan) -> tuple[JobRecord, float]:
        """Run one of the run's own jobs (not a trial) to its end; the finished job and its wall time."""
        request = _request(run)
        job = self.trials.create({"dataset": request.dataset.model_dump(), "config": config.model_dump(mode="json")})
        started = time.monotonic()
        queue = scheduler.subscribe(job.id)
        scheduler.submit(job, {**self._plan(run, job, config), **plan})
        try:
            await self._follow(run, study, None, job, queue, budget, clock, scheduler, what, left)
        finally:
            scheduler.unsubscribe(job.id, queue)
        return scheduler.job(job.id), time.monotonic() - started

    async def _follow(self, run, study, trial, job: JobRecord, queue, budget: Budget, clock,
                      scheduler: Scheduler, what: str = "classical candidates", left=None) -> bool:
        """Report each epoch's validation accuracy; cancel the job if Optuna prunes it or time is up
        (the search's, or `left`'s for the end phase). Without a trial only the time is watched."""
        reported, stopping = 0, False
        what = f"trial {trial.number}" if trial is not None else what
        phase = "search" if left is None else "run's end phase"
        left = left or budget.left
        while not job.done:
            try:
                job, _ = await asyncio.wait_for(queue.get(), timeout=max(0.2, left()))
            except TimeoutError:
                pass
            history = job.result.get("history", []) if trial is not None else []
            for record in history[reported:]:
                reported += 1
                if not stopping and self._report(trial, record, reported, history, job):
                    self._log(run, f"{what}: pruned after {reported} epochs")
                    stopping = "pruned"
            if not stopping and (left() <= 0 or run.id in self.cancelled):
                self._log(run, f"{what}: stopped at the end of the {phase} time")
                stopping = "stopped"
            if stopping and not job.done and job.id in scheduler.running \
                    and not scheduler.running[job.id].cancel_requested:
                scheduler.cancel(job.id)
            self._changed(run, study, clock)
        return stopping == "pruned"

    @staticmethod
    def _report(trial, record: dict, step: int, history: list[dict], job: JobRecord) -> bool:
        """Report one epoch; True when Optuna prunes the trial, which it may only once the trial has had
        its fair share (search.may_prune). A trial the study already holds as finished is left alone."""
        from bioclass.server.automl import search  # Optuna loads with the first AutoML run

        if not search.report(trial, record.get("val_accuracy", math.nan), step):
            return False
        config = job.request["config"]
        trained_s = sum(h.get("seconds", 0.0) for h in history[:step])
        return search.may_prune(step, config.get("epochs", 0), trained_s, config.get("max_seconds", 0.0)) \
            and trial.should_prune()

    def _tell(self, run, study, trial, job: JobRecord, pruned: bool, wall_s: float, budget: Budget) -> None:
        search = _search()
        try:
            self._record(run, study, trial, job, pruned, wall_s, budget)
        except search.UpdateFinishedTrialError:
            self._log(run, f"trial {trial.number}: already finished in the study; its late outcome ({job.state}) "
                           "is left out")

    def _record(self, run, study, trial, job: JobRecord, pruned: bool, wall_s: float, budget: Budget) -> None:
        search = _search()
        trial.set_user_attr("seconds", wall_s)
        training_s = sum(h.get("seconds", 0.0) for h in job.result.get("history", []))
        if job.state == SUCCEEDED:
            semi_supervised = bool(job.request.get("config", {}).get("semi_supervised"))
            budget.measured(wall_s, training_s, semi_supervised=semi_supervised)
            budget.network_finished = True
            request = _request(run)
            value, attrs = search.outcome(job.result, request)
            for key, item in attrs.items():
                trial.set_user_attr(key, item)
            study.tell(trial, value, skip_if_finished=True)
            self._log(run, f"trial {trial.number}: {request.metric} {attrs['metric']:.4f} in {wall_s:.0f} s"
                      + (f" ({attrs['note']})" if attrs.get("note") else ""))
            self._plan_end(run, study, budget)
        elif pruned:
            study.tell(trial, state=search.TrialState.PRUNED, skip_if_finished=True)
        else:
            trial.set_user_attr("note", job.error or job.state)
            study.tell(trial, state=search.TrialState.FAIL, skip_if_finished=True)
            self._log(run, f"trial {trial.number}: {job.state}: {job.error}")

    async def _finish(self, run: JobRecord, study, clock, budget: Budget, scheduler: Scheduler) -> None:
        request = _request(run)
        best, why_not_top = _search().chosen_trial(study, run.result.get("estimates"))
        cancelled = run.id in self.cancelled
        if best is None:
            why = "cancelled before any trial finished" if cancelled else "no trial finished within the budget"
            return self._end(run, CANCELLED if cancelled else FAILED, clock, error=why)
        if why_not_top:
            self._log(run, why_not_top)
        classical = "export_dir" in best.user_attrs
        folds = best.user_attrs.get("folds", 1)
        self._log(run, f"best: trial {best.number} ({best.params.get('architecture', best.user_attrs.get('architecture'))}, "
                       f"{request.metric} {best.user_attrs['metric']:.4f}"
                       + (f" ± {best.user_attrs['metric_sd']:.4f} over {folds} folds" if folds > 1 else "") + "); "
                       + ("serving" if classical else "quantizing and serving"))
        out = self.folder / run.id / "model"
        if classical:
            result = await asyncio.to_thread(_classical_served, best.user_attrs, out, run.model_id)
        else:
            retrained = await self._retrained(run, study, best, budget, clock, scheduler)
            result = await self._quantized(run, best, out, retrained)
        await self.zoo.register_folder(Path(result["fp32_dir"]), True)
        int8_id = ""
        if result.get("int8_dir"):
            int8_id = (await self.zoo.register_folder(Path(result["int8_dir"]), True)).card.id
        run.result = {**run.result, "best_trial": best.number, "exports": result["exports"],
                      "quantization": result["quantization"], "candidates": result["candidates"],
                      "int8_model_id": int8_id}
        for e in result["exports"]:
            self._log(run, f"{e['format']}: accuracy {e['accuracy']:.3f}, {e['size_bytes'] / 1e6:.2f} MB, "
                           f"{e['ms_per_image']:.2f} ms/image")
        self._end(run, CANCELLED if cancelled else SUCCEEDED, clock)

    async def _quantized(self, run: JobRecord, best, out: Path, retrained: JobRecord | None) -> dict:
        """The best trial's fp32 and int8 models (retrained on all images, or the trial's own) from the helper
        process; if the helper fails (killed, out of memory), the fp32 export unquantized, with the reason."""
        trial_job = retrained or self.trials.get(best.user_attrs["job_id"])
        export = self.folder / "trials" / trial_job.id / "export"
        try:
            request = _request(run)
            return await self._helper.run(_finalize, str(export), str(self._root(request)),
                                          request.dataset.model_dump(), trial_job.request["config"], str(out),
                                          run.model_id, request.threads or 1)
        except Exception as exc:  # noqa: BLE001 - the end step failing must not lose the best trial
            log.warning("AutoML run %s: quantization failed", run.id, exc_info=True)
            self._log(run, f"quantization failed ({_one_line(exc)}); serving trial {best.number}'s fp32 export "
                           "unquantized")
            return await asyncio.to_thread(_unquantized, export, out, run.model_id, trial_job.result)

    # ---- records and watchers ------------------------------------------------------------------

    def _changed(self, run: JobRecord, study, clock, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.persisted.get(run.id, 0.0) < PERSIST_S:
            return
        self.persisted[run.id] = now
        run.result = {**run.result, "leaderboard": _search().leaderboard(study, run.result.get("estimates"))}
        self.runs.update(run, result=run.result, progress={"elapsed": _elapsed(clock)})
        self._publish(run)

    def _log(self, run: JobRecord, line: str) -> None:
        log.info("automl %s: %s", run.id, line)
        self.runs.update(run, log=[*run.log, line])
        self._publish(run)

    def _end(self, run: JobRecord, state: str, clock, error: str = "") -> None:
        self.cancelled.discard(run.id)
        self.runs.update(run, state=state, error=error, finished=time.time(), result=run.result,
                         progress={"elapsed": _elapsed(clock)})
        log.info("automl %s %s %s", run.id, state, error)
        self._publish(run)

    def _publish(self, run: JobRecord) -> None:
        self.watchers.publish(run.id, run)

    def close(self) -> None:
        """Stop the search; running runs stay running in the store and resume at the next start."""
        for task in list(self.tasks.values()):
            task.cancel()
        for scheduler in filter(None, (self.local, self.ray)):
            scheduler.close()
        self._helper.close()
        self.runs.close()
        self.trials.close()


def _ray_scheduler(settings: Settings, store: JobStore, jobs_dir: Path) -> Scheduler:
    """settings.ray_trials trials at once as Ray Tune trials (the process has joined the cluster)."""
    from bioclass.server.ray.trials import RayScheduler  # Ray loads only for a server or run on a cluster

    return RayScheduler(store, jobs_dir, settings.ray_trials, _keep_unserved, cpus=settings.ray_trial_cpus,
                        cancel_grace_s=settings.job_cancel_grace_s)


def _join_cluster(address: str) -> None:
    """Join the cluster a run asks for (in a thread: importing Ray and joining take seconds)."""
    from bioclass.server.ray import cluster

    try:
        cluster.join(address)
    except ValueError as exc:
        raise InvalidArgument(f"ray_address: {exc}") from None
    except ConnectionError as exc:
        raise Unavailable(str(exc).splitlines()[0]) from None
    log.info("joined the Ray cluster at %s for AutoML trials", address)


def _known_addresses(address: str) -> set[str]:
    """The names of the cluster the server joined: as it was given ('auto' too) and as Ray resolved it."""
    from bioclass.server.ray import cluster

    return {address, cluster.joined_address()}


async def _keep_unserved(job: JobRecord, result: dict) -> str:
    return ""  # trials are not served; only the run's best model is, after quantization


def _training_seconds(job: JobRecord) -> float:
    return sum(h.get("seconds", 0.0) for h in job.result.get("history", []))


FEWEST_FOLDS = 3  # the finalists' folds when the profile's (up to five) do not fit the end phase


def _retraining_estimate(job: JobRecord, request: AutoMLConfig) -> float:
    """A trial's training time up to the epoch it kept, on its validation images as well."""
    history = [h for h in job.result.get("history", []) if h.get("stage") == "train"]
    kept = _search().best_epochs(history) / max(1, len(history)) if history else 1.0
    return _training_seconds(job) * kept / (1.0 - request.val_fraction)


def _elapsed(clock: tuple[float, float]) -> float:
    started, before = clock
    return before + time.monotonic() - started


def _split_config(request: AutoMLConfig) -> TrainConfig:
    return TrainConfig(arch=request.architectures[0], val_fraction=request.val_fraction, test_fraction=0.0,
                       seed=request.seed)


def _request(run: JobRecord) -> AutoMLConfig:
    """The run's stored request, typed again (it was validated when the run started)."""
    return AutoMLConfig.model_validate(run.request)


def _search():
    """The search module: Optuna loads with the first AutoML run, never at server start."""
    from bioclass.server.automl import search

    return search


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, shared.HelperDied):
        return "the helper process died (killed, or out of memory?)"
    text = getattr(exc, "message", None) or (str(exc).splitlines()[0] if str(exc) else "")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _unquantized(export: Path, out: Path, model_id: str, trial_result: dict) -> dict:
    folder = model_folder(export, out / "fp32", export / "model.onnx", model_id, "fp32")
    exports = [{**e, "file": "model.onnx"} for e in trial_result["exports"] if e["format"] == "onnx"]
    return {"fp32_dir": str(folder), "exports": exports, "candidates": [], "quantization": ""}


def _classical_served(attrs: dict, out: Path, model_id: str) -> dict:
    folder = classical_folder(Path(attrs["export_dir"]), out / "fp32", model_id, attrs["architecture"])
    weights = read_card(folder).weights
    exports = [{"format": "onnx", "file": weights, "size_bytes": (folder / weights).stat().st_size,
                "accuracy": attrs["accuracy"], "ms_per_image": attrs["latency_ms"]}]
    return {"fp32_dir": str(folder), "exports": exports, "candidates": [], "quantization": ""}


def _finalize(*args):
    """Runs in the helper process: torch and ONNX Runtime never load in the server process."""
    from bioclass.server.automl import finalize

    return finalize.finalize(*args)
