"""The one flow from submit() to the logged model, for every task.

The task strategy (tasks/) prepares the problem, supplies the evaluator, the candidates, the
ensembles and the final model. This module alone owns the budget, the backends, tracking,
refit, logging and the finishing artifacts; computing and logging stay apart: results are
computed first, then logged through the Tracker, whose failures are warnings.
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from . import budget
from .config import AutoMLConfig
from .control import RunControl
from .debug_log import debug_log
from .ensemble.build import member_results
from .errors import AutoMLError, CanceledError, ExplanationBudgetError, NoTrialSucceededError
from .lineage import dataset_inputs
from .models import REGISTRY
from .metrics import to_loss
from .progress import Progress
from .search.backends import BACKENDS, TrialContext, choose_backend
from .search.stopping import CANCELED_REASON, Stopper, early_end_note
from .search.trial import OK, TrialResult
from .tasks import Problem, RunRecord, Task, task_for
from .tracking import Tracker

log = logging.getLogger(__name__)


INTERRUPTED = "interrupted by the user (Ctrl-C)"


@dataclass
class SearchOutcome:
    results: list[TrialResult]
    stop_reason: str
    backend: str
    search_seconds: float
    interrupted: bool = False  # Ctrl-C: the search stopped; the best model so far is still refit and returned


@dataclass
class Resume:
    """continue_experiment: the parent run that goes on and its finished trials (ensembles left out)."""

    run_id: str
    results: list[TrialResult]
    next_iteration: int  # after every iteration the run used, its ensembles included


def warm_trial_processes(config: AutoMLConfig, spark: Any) -> None:
    """Driver-side trials run in processes forked from a forkserver; starting it (its imports take a
    few seconds, once per Python process) overlaps data preparation instead of delaying the first trial."""
    import threading

    from .search.backends.processes import warm_up

    if config.backend in ("auto", "local") and spark.sparkContext.master.startswith("local["):
        threading.Thread(target=warm_up, daemon=True, name="spark-automl-forkserver").start()


def loaded_frames(loaded: Any) -> dict[str, Any]:
    """What task.check returned, by role: a (train, validation, test) triple, or one training frame."""
    roles = ("training_data", "validation_data", "test_data")
    return dict(zip(roles, loaded)) if isinstance(loaded, tuple) else {"training_data": loaded}


def best_result(results: list[TrialResult], metric: str | None = None) -> TrialResult:
    ok = [r for r in results if r.status == OK]
    if not ok:
        errors = "; ".join(sorted({r.error.splitlines()[0] for r in results if r.error})[:3])
        raise NoTrialSucceededError(
            f"No trial succeeded ({len(results)} tried). First errors: {errors or 'none recorded'}. "
            "Raise experiment_timeout_minutes or iteration_timeout_minutes, or check the data."
        )
    if metric is None:
        return min(ok, key=lambda r: (r.loss, r.iteration))
    return min(ok, key=lambda r: (to_loss(metric, r.metrics.get(metric, float("nan"))), r.iteration))


def run_search(spark, problem: Problem, config: AutoMLConfig, on_results, stopper: Stopper,
               progress: Progress, prior: list[TrialResult] | None = None) -> SearchOutcome:
    """The sweeper proposes, the backend evaluates (threads or Spark tasks), the stopper ends it.
    prior: trials a resumed run already finished (kept in the outcome, not run or logged again)."""
    for name, why in problem.skipped.items():
        progress.stage(f"Skipping {name}: {why}")
    master = None if spark is None else spark.sparkContext.master
    backend_name, why = choose_backend(config.backend, problem.n_rows, problem.n_features, master)
    backend = BACKENDS[backend_name](spark=spark, trials_per_task=config.trials_per_task)
    ctx = TrialContext(config.max_concurrent_iterations, config.trial_timeout_seconds)
    progress.stage(f"Searching {len(problem.sweeper.specs)} models with the {backend_name} backend ({why}; "
                   f"{config.max_concurrent_iterations} concurrent)")
    results: list[TrialResult] = list(prior or [])

    def collect(batch):
        results.extend(batch)
        on_results(batch)

    t0 = time.time()
    interrupted = False
    try:
        backend.run(problem.sweeper, problem.evaluator, ctx, stopper, collect)
    except KeyboardInterrupt:
        interrupted = True
        progress.stage("Interrupted (Ctrl-C): the search stops; the best model so far is refit and returned "
                       "(Ctrl-C again aborts)")
    finally:
        backend.close()
    if stopper.cancelled and not interrupted:
        interrupted = True
        progress.stage("Canceled (run.cancel()): the search stops; the best model so far is refit and returned")
        reason = CANCELED_REASON
    else:
        reason = INTERRUPTED if interrupted else (stopper.should_stop() or "search space exhausted")
    return SearchOutcome(results, reason, backend_name, time.time() - t0, interrupted)


def run_experiment(experiment, config: AutoMLConfig, show_output: bool = False, run_name: str | None = None,
                   tags: dict[str, str] | None = None, control: RunControl | None = None,
                   resume: Resume | None = None):
    """Prepare, search, ensemble, refit, log, finish; returns an AutoMLRun. control: cancel from another
    thread. With debug_log set, every progress line and the library's log records go to that file."""
    with debug_log(config.debug_log_path) as mirror:
        try:
            return _run_experiment(experiment, config, show_output, run_name, tags, control or RunControl(), mirror,
                                   resume)
        except BaseException:
            if mirror is not None:
                mirror("The run ended with an error:\n" + traceback.format_exc())
            raise


def _run_experiment(experiment, config: AutoMLConfig, show_output: bool, run_name: str | None,
                    tags: dict[str, str] | None, control: RunControl, mirror, resume: Resume | None):
    from .run import AutoMLRun

    started = time.time()
    logging.getLogger("spark_automl").setLevel(config.verbosity)  # Azure's verbosity: the library's own logger
    task = task_for(config.task)
    forecasting = config.task == "forecasting"
    timeout = config.timeout_seconds
    budget.check_budget(timeout, explain=bool(config.model_explainability),
                        onnx=bool(config.enable_onnx_compatible_models), forecasting=forecasting)
    progress = Progress(config.metric, enabled=show_output, pipeline_prefix=task.pipeline_prefix, mirror=mirror)
    spark = experiment.session()
    warm_trial_processes(config, spark)
    loaded = task.check(spark, config)  # schema errors before any MLflow or Spark work
    tracker = Tracker(experiment.name, experiment.tracking_uri, experiment.registry_uri)
    tracker.check()  # an HTTP tracking server that does not answer fails here, in seconds
    stopper = Stopper(config.metric, config.max_iterations, timeout, config.experiment_exit_score,
                      config.enable_early_stopping, start=started, reserve=budget.initial_reserve(timeout),
                      job_tag=f"spark-automl-{uuid.uuid4().hex[:12]}", spark=spark)
    control.attach(stopper)
    progress.stage(f"Experiment {experiment.name!r}: task={config.task}, primary_metric={config.metric}")
    problem = task.prepare(spark, config, loaded, progress.stage)
    problem.evaluator.custom_metrics = config.custom_metrics  # shipped with the trials to the workers
    problem.evaluator.model_specs = REGISTRY.runtime_specs()  # a user's own models reach them too
    if resume is not None:
        resume_search(problem, resume, stopper, progress)
    prepared_at = time.time()
    ensembles_on = bool(config.enable_voting_ensemble or config.stack_enabled)

    def fixed_finish(ensembles: bool) -> float:
        return budget.fixed_finish_seconds(ensembles=ensembles, explain=bool(config.model_explainability),
                                           onnx=bool(config.enable_onnx_compatible_models), forecasting=forecasting,
                                           explained_columns=problem.explained_columns)

    def left_for_refit() -> float | None:
        """Seconds until the budget ends, net of the fixed finish: model logging and the requested artifacts."""
        return None if timeout is None else started + timeout - time.time() - fixed_finish(False)

    stopper.reserve_for = budget.FinishReserve(
        problem.n_splits, config.max_concurrent_iterations, ensembles_on, fixed_finish(ensembles_on),
        refit_cost=lambda r: task.refit_cost(problem, r), footprint=lambda r: task.final_footprint(problem, r),
        select=lambda results: task.likely_members(problem, results, config))
    progress.stage(f"Data: {problem.description}")
    for g in problem.guardrails:
        progress.stage(f"Guardrail {g.name}: {g.status.upper()} - {g.description}")
    if resume is not None:
        tracker.reopen_parent(resume.run_id)
    else:
        tracker.start_parent(run_name or f"automl_{time.strftime('%Y%m%d_%H%M%S')}",
                             params={k: v for k, v in config.to_dict().items() if v is not None},
                             tags={"task": config.task, "primary_metric": config.metric, "automl": "spark-automl",
                                   **(tags or {})}, start_time=started)
        tracker.log_inputs(dataset_inputs(config, loaded_frames(loaded)))
    tracker.log_checkpoint_config(config.without_data())
    stop_heartbeat = tracker.start_heartbeat()
    stop_cancel_watch = tracker.watch_cancel(control.cancel)  # run.cancel() from a re-attached handle
    control.mark_started(tracker.parent_run_id)
    if tracker.parent_run_id is None:
        progress.stage("MLflow tracking is unavailable: the experiment goes on; nothing will be logged")
    else:  # Azure's "Parent Run ID": what re-attaching, or cancelling from elsewhere, needs
        progress.stage(f"Parent run ID: {tracker.parent_run_id} (experiment {experiment.name!r})")
    tracker.log_dict(guardrail_records(problem.guardrails), "guardrails.json")
    timings: dict[str, float] = {"data_preparation": prepared_at - started}
    status, outcome, best = "FAILED", None, None
    marks: dict[str, float] = {}
    try:
        def on_results(batch):
            if "first_trial" not in marks and any(r.status == OK for r in batch):
                marks["first_trial"] = time.time() - started  # the budget reaching the search, reported
            tracker.log_trials(batch)
            progress.trials(batch)

        outcome = run_search(spark, problem, config, on_results, stopper, progress,
                             prior=resume.results if resume is not None else None)
        timings["search"] = outcome.search_seconds
        if outcome.interrupted and not any(r.status == OK for r in outcome.results):
            if stopper.cancelled:
                raise CanceledError("The run was canceled before any trial finished: there is no model to return.")
            raise KeyboardInterrupt  # nothing to return: the run ends KILLED
        if not outcome.results:
            raise NoTrialSucceededError(
                f"No trial ran: {outcome.stop_reason} after data preparation took "
                f"{timings['data_preparation']:.0f}s of the {timeout or 0:.0f}s budget ({problem.description}). "
                "Raise experiment_timeout_minutes, or lower max_rows_in_memory to search on a smaller sample.")
        progress.stage(f"Search stopped: {outcome.stop_reason}; {len(outcome.results)} trials")
        left = None if stopper.deadline is None else stopper.deadline - time.time()
        note = None if left is None or outcome.interrupted else early_end_note(outcome.stop_reason, left, timeout)
        if note:
            progress.stage(note)
            marks["unused_search_seconds"] = left
        with timed(timings, "ensembling"):
            # the members are chosen among those whose refit and logging fit beside the explanation and the
            # other requested artifacts, as the refit below is bounded (wine_quality_white: the ensemble took
            # the explanation's seconds, the explanation was skipped and the run ended 6% over)
            ensembles = task.ensembles(problem, outcome.results, config, progress.stage, left_for_refit())
            if ensembles:
                outcome.results.extend(ensembles)
                on_results(ensembles)
        best = best_result(outcome.results)
        expected = expected_refit(task, problem, best, outcome.results, config.max_concurrent_iterations,
                                  budget.model_logging_seconds(forecasting))
        progress.stage(f"Refitting the best model ({best.model}, {config.metric}={best.score:.5f}) on all rows"
                       + (" (ensemble members in parallel)" if best.ensemble else "")
                       + f": ~{expected['refit']:.0f}s refit, ~{expected['model_logging']:.0f}s logging expected")
        cache: dict[int, Any] = {}
        with timed(timings, "refit"):  # what the refit and model logging may take: all but what comes after them
            # a canceled or interrupted run finishes as soon as it can: no spare seconds spent on extra bags
            # (a credit_g run canceled at 46 s spent 84 s bagging five forests beyond the caps)
            model = task.fit_final(problem, best, outcome.results, config, cache, spark, progress.stage,
                                   time_left=None if outcome.interrupted else left_for_refit())
        record = run_record(task, problem, config, outcome, tracker, best.iteration)
        run = AutoMLRun._attached(experiment, tracker, record, task, model=model, problem=problem, cache=cache)
        with timed(timings, "model_logging"):
            run.log_model(retry=False)  # a store that timed out during the search is not waited for again
        tracker.log_text(run.leaderboard.drop(columns=["params"]).to_csv(index=False), "leaderboard.csv")
        tracker.tag_parent(parent_pointers(run, best, config))
        if outcome.interrupted:
            progress.stage("Interrupted: charts, test, explanations and generated code were skipped; the run's "
                           "methods make them on demand")
        else:
            finish(run, task, config, progress, started, timings)
        status = "KILLED" if outcome.interrupted else "FINISHED"
        run._status = status
        record.wall_seconds, record.timings = time.time() - started, dict(timings)
        record.first_trial_seconds = marks.get("first_trial")
        record.expected_timings = expected
        with timed(timings, "record"):
            tracker.log_record(record.slim())
        progress.stage(f"Best: iteration {best.iteration} {best.model} {config.metric}={best.score:.5f}; "
                       f"model at {run.model_uri}; {record.wall_seconds:.1f}s in all")
        if tracker.failures:
            progress.stage(f"{len(tracker.failures)} MLflow call(s) failed; the run keeps its model: "
                           "call run.log_model() to log it again")
        return run
    except KeyboardInterrupt:
        status = "KILLED"
        if outcome is not None:
            tracker.log_record(run_record(task, problem, config, outcome, tracker, None).slim())
        raise
    except Exception as err:
        if isinstance(err, CanceledError):
            status = "KILLED"
        # a failed run keeps what it found, so it can be re-attached (leaderboard, children)
        if outcome is not None and status != "FINISHED":
            tracker.log_record(run_record(task, problem, config, outcome, tracker, None).slim())
        if isinstance(err, AutoMLError):
            err.run_id = tracker.parent_run_id  # re-attach with Experiment.get_run(err.run_id)
        raise
    finally:
        stop_heartbeat()
        stop_cancel_watch()
        summary = {f"seconds_{k}": v for k, v in timings.items()}
        summary["wall_seconds"] = time.time() - started
        if "first_trial" in marks:
            summary["seconds_to_first_trial"] = marks["first_trial"]
        if "unused_search_seconds" in marks:
            summary["unused_search_seconds"] = marks["unused_search_seconds"]
        if status in ("FINISHED", "KILLED") and best is not None:
            summary.update({f"best_{k}": v for k, v in best.metrics.items()})
            summary["trials"] = len(outcome.results)
        reason = outcome.stop_reason if outcome is not None else stopper.reason
        tracker.close_parent(status, summary, {"stop_reason": reason or ""})


def resume_search(problem: Problem, resume: Resume, stopper: Stopper, progress: Progress) -> None:
    """The sweeper and the stopper go on from the finished trials; their validation predictions must
    match this preparation of the data (same rows, same folds), or the run cannot be continued."""
    from .errors import ConfigError

    rows = len(problem.target.y)
    for r in resume.results:
        if r.oof is not None and len(r.oof) != rows:
            raise ConfigError(f"continue_experiment: the data differs from run {resume.run_id}'s ({len(r.oof)} "
                              f"validation rows then, {rows} now). Pass the same training_data and settings.")
    problem.sweeper.resume(resume.results, resume.next_iteration)
    ok = [r for r in resume.results if r.status == OK]
    if ok:
        stopper.best_loss = min(r.loss for r in ok)
    best = min(ok, key=lambda r: (r.loss, r.iteration)) if ok else None
    progress.stage(f"Continuing run {resume.run_id}: {len(resume.results)} finished trials kept"
                   + (f" (best: iteration {best.iteration} {best.model} {best.score:.5f})" if best else ""))


def parent_pointers(run, best: TrialResult, config: AutoMLConfig) -> dict[str, str]:
    """Tags that make the parent run's page answer 'which model won, and where is it'."""
    child = run.tracker.child_run_ids.get(best.iteration, "")
    note = (f"**Best model**: iteration {best.iteration}, {best.model}, {config.metric} = {best.score:.5f}  \n"
            f"child run `{child}`, model `{run.model_uri}`")
    return {"automl.best_iteration": str(best.iteration), "automl.best_model": best.model,
            "automl.best_child_run_id": child, "automl.model_uri": str(run.model_uri or ""),
            "automl.best_score": f"{best.score:.6g}", "mlflow.note.content": note}


def run_record(task: Task, problem: Problem, config: AutoMLConfig, outcome: SearchOutcome, tracker: Tracker,
               best_iteration: int | None) -> RunRecord:
    """What re-attaching needs; best_iteration None for a run where no trial succeeded."""
    return RunRecord(config.task, config.without_data(), outcome.results, best_iteration, tracker.child_run_ids,
                     guardrail_records(problem.guardrails), task.record_info(problem, config),
                     stop_reason=outcome.stop_reason, backend=outcome.backend)


def finish(run, task: Task, config: AutoMLConfig, progress: Progress, started: float, timings: dict) -> None:
    """The artifacts after the model is logged. One the user asked for is always made; an
    optional one is skipped with a note past the budget's overrun, and can be made later
    with the run's method."""
    limit = budget.optional_deadline(started, config.timeout_seconds)
    for name, method, wanted, asked in task.finish_steps(config, run.record.info):
        if not wanted:
            continue
        if not asked and limit is not None and time.time() > limit:
            progress.stage(f"Skipping {name}: the experiment budget is spent; call run.{method}() to make it")
            continue
        progress.stage(f"Logging {name.replace('_', ' ')}")
        with timed(timings, name):
            try:
                if method == "explain" and limit is not None:
                    # permutation importance scales with columns x rows: bound it by what is left of the
                    # budget itself (the overrun margin is for what cannot be bounded)
                    end = started + config.timeout_seconds
                    run.explain(max_seconds=max(budget.EXPLAIN_MIN_SECONDS, end - time.time()))
                else:
                    getattr(run, method)()
            except ExplanationBudgetError as err:
                progress.stage(f"Skipping {name}: {err}")
            except Exception as err:  # noqa: BLE001 - an artifact must not lose a finished experiment
                log.warning("%s failed: %s", name, err)
                progress.stage(f"{name} failed: {type(err).__name__}: {err}")


def expected_refit(task: Task, problem: Problem, best: TrialResult, results: list[TrialResult], workers: int,
                   fixed_logging: float) -> dict[str, float]:
    """What the budget prices for the winner's refit and its model logging: reported beside the measured
    stages (RunRecord.expected_timings), so a reserve that over- or under-prices shows in every run."""
    refit, logging = budget.members_seconds(member_results(best, results), lambda m: task.refit_cost(problem, m),
                                            lambda m: task.final_footprint(problem, m), workers)
    return {"refit": refit, "model_logging": fixed_logging + logging}


@contextmanager
def timed(timings: dict, name: str):
    t0 = time.time()
    try:
        yield
    finally:
        timings[name] = time.time() - t0


def guardrail_records(guards: list) -> list[dict]:
    return [{"name": g.name, "status": g.status, "description": g.description, "details": g.details} for g in guards]
