"""Azure's data guardrails: each finding is passed, done (we fixed it) or alerted (you should look)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .profile import DataProfile
from .split import ValidationTechnique

PASSED, DONE, ALERTED = "passed", "done", "alerted"
IMBALANCE_RATIO = 0.2  # smallest class below 20% of the largest -> alert


@dataclass
class Guardrail:
    name: str
    status: str
    description: str
    details: list[dict[str, Any]] = field(default_factory=list)


def evaluate(profile: DataProfile, plan_columns: list, technique: ValidationTechnique, classification: bool,
             n_dropped_labels: int, sampled_rows: int | None = None) -> list[Guardrail]:
    out = [_validation(technique), _missing_values(profile, plan_columns), _high_cardinality(plan_columns),
           _dropped_columns(plan_columns), _missing_labels(profile.label, n_dropped_labels)]
    if classification:
        out.append(_class_balance(profile))
    out.append(_memory(profile.n_rows, sampled_rows))
    return out


def _validation(t: ValidationTechnique) -> Guardrail:
    return Guardrail("Validation split handling", DONE, f"{t.describe()} ({t.reason}).",
                     [{"technique": t.kind, "folds": t.n_folds, "validation_size": t.validation_size}])


def _missing_values(profile: DataProfile, plans: list) -> Guardrail:
    details = []
    for p in plans:
        c = profile.columns[p.name]
        if p.purpose != "drop" and (c.missing(profile.n_rows) or c.n_infinite):
            details.append({"column": p.name, "missing": c.missing(profile.n_rows), "infinite": c.n_infinite,
                            "imputation": p.reason})
    if not details:
        return Guardrail("Missing feature values imputation", PASSED, "No missing feature values were found.")
    infinite = [d["column"] for d in details if d["infinite"]]
    if infinite:
        return Guardrail("Missing feature values imputation", ALERTED,
                         f"Missing values were imputed in {len(details)} column(s); infinite values in "
                         f"{infinite[:5]} were treated as missing. Check how those values arose.", details)
    return Guardrail("Missing feature values imputation", DONE,
                     f"Missing values were imputed in {len(details)} column(s).", details)


def _high_cardinality(plans: list) -> Guardrail:
    details = [{"column": p.name, "treatment": p.reason} for p in plans if p.purpose in ("hash", "text")]
    if not details:
        return Guardrail("High cardinality feature detection", PASSED, "No high-cardinality features were found.")
    return Guardrail("High cardinality feature detection", DONE,
                     f"{len(details)} high-cardinality column(s) were hashed or treated as text.", details)


def _dropped_columns(plans: list) -> Guardrail:
    details = [{"column": p.name, "reason": p.reason} for p in plans if p.purpose == "drop"]
    if not details:
        return Guardrail("Constant, empty and ID-like column detection", PASSED, "Every column is usable as a feature.")
    return Guardrail("Constant, empty and ID-like column detection", DONE,
                     f"{len(details)} column(s) were dropped from the features.", details)


def _missing_labels(label: str | None, dropped: int) -> Guardrail:
    if not dropped:
        return Guardrail("Missing label handling", PASSED, "Every row has a label.")
    return Guardrail("Missing label handling", DONE,
                     f"{dropped} row(s) with a missing value in label column {label!r} were dropped.",
                     [{"column": label, "dropped_rows": dropped}])


def _class_balance(profile: DataProfile) -> Guardrail:
    counts = profile.label_counts
    smallest, largest = min(counts.values()), max(counts.values())
    details = [{"class": str(k), "rows": v, "share": round(v / sum(counts.values()), 4)} for k, v in sorted(counts.items(), key=lambda kv: -kv[1])]
    if smallest < IMBALANCE_RATIO * largest:
        return Guardrail(
            "Class balancing detection", ALERTED,
            f"Imbalanced classes: the smallest class has {smallest} rows vs {largest} for the largest. "
            "Consider primary_metric='AUC_weighted' or 'norm_macro_recall', or weight_column_name.", details)
    return Guardrail("Class balancing detection", PASSED, "Classes are balanced enough.", details)


def _memory(n_rows: int, sampled_rows: int | None) -> Guardrail:
    if sampled_rows is None:
        return Guardrail("Memory issues detection", PASSED, "The search data fits the driver's memory budget.")
    return Guardrail("Memory issues detection", ALERTED,
                     f"{n_rows} rows exceed the driver's budget (max_rows_in_memory, or fewer rows for wide data): "
                     f"the search used a seeded sample of about {sampled_rows} rows; featurization and the final "
                     "refit ran in Spark on all rows.",
                     [{"rows": n_rows, "sampled_rows": sampled_rows}])
