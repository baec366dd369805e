"""Sweeper: proposes candidates. A portfolio of strong defaults first, then hyperopt TPE
over (model, hyperparameters), seeded with the portfolio's results.

Only strategy lives here; how candidates are evaluated is a backend's business
(the ask/tell split of sklearn's BaseSearchCV._run_search).
"""

from __future__ import annotations

import functools
from typing import Any, Mapping, Sequence

import numpy as np
from hyperopt import STATUS_FAIL, STATUS_OK, Trials, hp, space_eval, tpe
from hyperopt.base import JOB_STATE_DONE, JOB_STATE_NEW, Domain

from ..models import ModelSpec
from .portfolio import learned
from .trial import OK, Candidate, TrialResult, searched_params

MODEL_LABEL = "model"
VARIANT_PRIORITY_STEP = 8  # a model's k-th default ranks as if its priority were 8*k lower


def _label(model: str, param: str) -> str:
    return f"{model}__{param}"


def build_space(specs: Sequence[ModelSpec]):
    """One hyperopt space: a choice of model, each with its own conditional parameters."""
    return hp.choice(MODEL_LABEL, [
        {"model": s.name, "params": {p: param.to_hyperopt(_label(s.name, p)) for p, param in s.space.items()}}
        for s in specs
    ])


def portfolio(specs: Sequence[ModelSpec], task: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The configurations tried before TPE, in run order.

    For a tabular task, each model brings the learned zero-shot portfolio's entries for it (in shipped
    order, cheapest first; search/portfolio.json) or, when the portfolio does not cover it, its
    hand-written defaults; every model's first entry runs before any model's second, so a short search
    (a few iterations) still sees every allowed model. LightGBM's defaults lead the learned portfolio.
    Without a task (forecasting's global learners): the hand-written defaults, cheapest-and-strongest
    first, a model's second default ranking as if its priority were 8 lower.
    Each model's variants run right after its first entry."""
    by_name = {s.name: s for s in specs}
    learned_entries = [(m, p) for m, p in (learned(task) if task else []) if m in by_name]
    if learned_entries:
        covered = {m for m, _ in learned_entries}
        level: dict[str, int] = {}
        ranked = []
        for position, (model, params) in enumerate(learned_entries):
            level[model] = level.get(model, -1) + 1
            ranked.append(((level[model], 0, position), model, params))
        for spec in sorted((s for s in specs if s.name not in covered), key=lambda s: (s.priority, s.name)):
            ranked += [((k, 1, spec.priority), spec.name, dict(d)) for k, d in enumerate(spec.defaults)]
        chosen = [(model, params) for _, model, params in sorted(ranked, key=lambda r: r[0])]
    else:
        hand = [(s.priority + VARIANT_PRIORITY_STEP * k, s.name, k, dict(d)) for s in specs for k, d in enumerate(s.defaults)]
        chosen = [(name, params) for _, name, _, params in sorted(hand, key=lambda r: (r[0], r[2], r[1]))]
    out: list[tuple[str, dict[str, Any]]] = []
    for model, params in chosen:
        first = all(m != model for m, _ in out)
        out.append((model, params))
        if first:
            out += [(model, {**params, **v}) for v in by_name[model].variants if {**params, **v} != params]
    return out


DUPLICATE_RETRIES = 20  # TPE proposals of an already-evaluated point answered from memory before giving up


class Sweeper:
    """Ask/tell wrapper around hyperopt's TPE (the loop fmin runs internally).

    queue: the portfolio in run order (default: `portfolio(specs, task)`); a task may order it
    (forecasting runs the cheap statistical baselines first). Models without hyperparameters
    (the statistical forecasters) run once, from the portfolio: TPE searches the tunable
    models only. A TPE proposal of a point that was already evaluated is answered with the
    known loss instead of being run again."""

    def __init__(self, specs: Sequence[ModelSpec], seed: int = 0, n_startup_jobs: int | None = None,
                 queue: list[tuple[str, dict[str, Any]]] | None = None, task: str | None = None):
        self.specs = list(specs)
        self.seed = seed
        self.tunable = [s for s in self.specs if s.tunable]
        self.space = build_space(self.tunable) if self.tunable else None
        self.domain = Domain(lambda _: 0.0, self.space) if self.tunable else None
        self.labels = sorted(self.domain.params) if self.tunable else []
        self.trials = Trials()
        self.rng = np.random.default_rng(seed)
        self.queue = list(queue) if queue is not None else portfolio(self.specs, task)
        n_startup = n_startup_jobs if n_startup_jobs is not None else \
            sum(self.is_tunable(m) for m, _ in self.queue) + 4
        self.algo = functools.partial(tpe.suggest, n_startup_jobs=n_startup)
        self.next_iteration = 0
        self._tid = {}
        self._known: dict[str, dict] = {}  # point key -> hyperopt result of its evaluation
        self._key_of: dict[int, str] = {}  # iteration -> point key, until told

    # ---- encoding ----------------------------------------------------------------
    def is_tunable(self, model: str) -> bool:
        return any(s.name == model for s in self.tunable)

    def fixed(self) -> list[Candidate]:
        """Take the portfolio's models without hyperparameters out of the queue, as candidates
        (for fmin-driven backends, whose space holds only the tunable models)."""
        fixed = [(m, p) for m, p in self.queue if not self.is_tunable(m)]
        self.queue = [(m, p) for m, p in self.queue if self.is_tunable(m)]
        return [self._candidate(None, m, p, "portfolio") for m, p in fixed]

    def encode(self, model: str, params: Mapping[str, Any]) -> dict[str, list]:
        """A concrete (model, params) of a tunable model as hyperopt 'vals'; inactive labels get []."""
        index = [s.name for s in self.tunable].index(model)
        spec = self.tunable[index]
        vals: dict[str, list] = {label: [] for label in self.labels}
        vals[MODEL_LABEL] = [index]
        full = {**{p: _default_value(param) for p, param in spec.space.items()}, **params}
        for p, param in spec.space.items():
            value = full[p]
            if param.kind == "choice" or param.contains(value):
                vals[_label(model, p)] = [param.encode(value)]
            else:  # outside the searched range: record the clipped value for TPE
                vals[_label(model, p)] = [min(max(value, param.low), param.high)]
        return vals

    def point_of(self, vals: Mapping[str, list]) -> dict[str, Any]:
        return space_eval(self.space, {k: v[0] for k, v in vals.items() if v})

    # ---- ask / tell -------------------------------------------------------------
    def ask(self, n: int) -> list[Candidate]:
        """Up to n candidates; fewer (maybe none) once the space holds nothing new to try."""
        out = []
        while self.queue and len(out) < n:
            model, params = self.queue.pop(0)
            if not self.is_tunable(model):  # nothing for TPE to learn: run it once
                out.append(self._candidate(None, model, params, "portfolio"))
                continue
            out.append(self._insert(self.encode(model, params), origin="portfolio", explicit=(model, params)))
        retries = 0
        while len(out) < n and retries <= DUPLICATE_RETRIES and self.tunable:
            # TPE proposes one point per call; pending points are inserted before the next.
            ids = self.trials.new_trial_ids(1)
            self.trials.refresh()
            docs = self.algo(ids, self.domain, self.trials, int(self.rng.integers(2**31 - 1)))
            for doc in docs:
                point = self.point_of(doc["misc"]["vals"])
                known = self._known.get(_key(point["model"], point["params"]))
                if known is not None:  # already evaluated: answer from memory, ask again
                    doc["state"], doc["result"] = JOB_STATE_DONE, dict(known)
                    retries += 1
            self.trials.insert_trial_docs(docs)
            self.trials.refresh()
            for doc in docs:
                if doc["state"] != JOB_STATE_DONE:
                    point = self.point_of(doc["misc"]["vals"])
                    out.append(self._candidate(doc["tid"], point["model"], point["params"], "tpe"))
        return out

    def resume(self, results: Sequence[TrialResult], next_iteration: int) -> None:
        """continue_experiment: the finished trials are known, as if this sweeper had proposed them. Their
        portfolio entries leave the queue and TPE learns from their losses; nothing of them is run again."""
        names = {s.name for s in self.specs}
        for r in sorted(results, key=lambda r: r.iteration):
            params = searched_params(r)
            key = _key(r.model, params)
            index = next((j for j, (model, params) in enumerate(self.queue) if _key(model, params) == key), None)
            if index is not None:
                del self.queue[index]
            if r.model in names and self.is_tunable(r.model):
                self._tid[r.iteration] = insert_pending(self.trials, self.encode(r.model, params))
                self._key_of[r.iteration] = key
                self.tell(r)
        self.next_iteration = max(self.next_iteration, next_iteration)

    def _insert(self, vals, origin: str, explicit=None) -> Candidate:
        tid = insert_pending(self.trials, vals)
        model, params = explicit if explicit else (self.point_of(vals)["model"], self.point_of(vals)["params"])
        return self._candidate(tid, model, params, origin)

    def _candidate(self, tid: int | None, model: str, params: Mapping[str, Any], origin: str) -> Candidate:
        cand = Candidate(self.next_iteration, model, dict(params), origin)
        if tid is not None:
            self._tid[cand.iteration] = tid
            self._key_of[cand.iteration] = _key(model, params)
        self.next_iteration += 1
        return cand

    def tell(self, result: TrialResult) -> None:
        tid = self._tid.pop(result.iteration, None)
        key = self._key_of.pop(result.iteration, None)
        if tid is None:
            return
        outcome = {"loss": result.loss, "status": STATUS_OK} if result.status == OK else {"status": STATUS_FAIL}
        if key is not None and result.status == OK:
            self._known[key] = outcome  # (a failed or timed-out point may succeed with more time)
        for doc in self.trials._dynamic_trials:
            if doc["tid"] == tid:
                doc["state"] = JOB_STATE_DONE
                doc["result"] = outcome
                break
        self.trials.refresh()


def _key(model: str, params: Mapping[str, Any]) -> str:
    return model + repr(sorted((k, v.item() if hasattr(v, "item") else v) for k, v in params.items()))


def insert_pending(trials: Trials, vals: Mapping[str, list]) -> int:
    """Queue a known point as a NEW trial document, as fmin does for points_to_evaluate."""
    (tid,) = trials.new_trial_ids(1)
    idxs = {k: ([tid] if v else []) for k, v in vals.items()}
    trials.insert_trial_docs([{
        "state": JOB_STATE_NEW, "tid": tid, "spec": None, "result": {"status": "new"},
        "misc": {"tid": tid, "cmd": ("domain_attachment", "FMinIter_Domain"), "workdir": None,
                 "idxs": idxs, "vals": dict(vals)},
        "exp_key": None, "owner": None, "version": 0, "book_time": None, "refresh_time": None,
    }])
    trials.refresh()
    return tid


def _default_value(param) -> Any:
    """Where a portfolio entry leaves a parameter at the library default, tell TPE the range's middle."""
    if param.kind == "choice":
        return param.options[0]
    if param.kind in ("loguniform", "logint"):
        value = float(np.sqrt(param.low * param.high))
    else:
        value = (param.low + param.high) / 2
    return int(round(value)) if param.kind in ("int", "logint") else value
