"""ONNX export of an experiment's final model: ONE graph from the raw input columns to
`label` + `probabilities` (classification) or `variable` (regression).

skl2onnx converts the Pipeline; this module teaches it our own steps (AutoFeaturizer,
LabelEncodedClassifier, VotingEnsembleEstimator) and plugs in onnxmltools' LightGBM and
XGBoost converters, so every inner estimator keeps its upstream converter.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import numpy as np
import onnx
import pandas as pd
from onnx import TensorProto
from sklearn.base import is_classifier
from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor, RandomForestClassifier, RandomForestRegressor
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import Pipeline
from sklearn.tree import BaseDecisionTree

from ..errors import DataError, ExportError
from ..featurize.transformer import AutoFeaturizer, ColumnPlan

TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
# What onnx_inputs feeds for a missing string; the graph maps it to the featurizer's missing slot.
MISSING_TOKEN = "__spark_automl_missing__"
_CONVERTIBLE = frozenset({"numeric", "categorical", "drop"})
_OUTPUT_NAMES = ("label", "probabilities", "variable")
# A Pipeline hands its zipmap option to its classifier step; ours always emit plain tensors.
_IGNORED = {"zipmap": [True, False, "columns"]}
_SKLEARN_TREES = (BaseDecisionTree, RandomForestClassifier, RandomForestRegressor, ExtraTreesClassifier,
                  ExtraTreesRegressor)


def onnx_convertible_purposes() -> set[str]:
    """Featurizer purposes the ONNX graph reproduces exactly (the rest need onnx_compatible plans)."""
    return set(_CONVERTIBLE)


# ---- public API ------------------------------------------------------------------
def to_onnx(pipeline: Pipeline, example: pd.DataFrame) -> onnx.ModelProto:
    """The final Pipeline([featurizer, model]) as one ONNX graph over the raw columns.

    `example` (a few raw rows) is scored once with onnxruntime so a graph that loads but
    cannot run fails here, at export, rather than in production.
    """
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import DoubleTensorType, StringTensorType

    featurizer, model = _split(pipeline)
    _check_featurizer(featurizer)
    _check_model(model, _nan_columns(featurizer))
    _register()
    plans = [p for p in featurizer.plans or [] if p.purpose != "drop"]
    if not plans:
        raise ExportError("The featurizer uses no input column (every column is dropped): nothing to export.")
    task = "classification" if _is_classifier(model) else "regression"
    names = _OUTPUT_NAMES[:2] if task == "classification" else _OUTPUT_NAMES[2:]
    clash = sorted({p.name for p in plans} & set(names))
    if clash:
        raise ExportError(f"Input column(s) {clash} share a name with an ONNX output {list(names)}; rename them.")
    missing = [p.name for p in plans if p.name not in example.columns]
    if missing:
        raise DataError(f"example is missing input column(s) {missing} that the featurizer uses.")
    inputs = [(p.name, DoubleTensorType([None, 1]) if p.purpose == "numeric" else StringTensorType([None, 1]))
              for p in plans]
    outputs = [("label", None), ("probabilities", None)] if task == "classification" else \
        [("variable", DoubleTensorType([None, 1]) if _double_regressor(model) else None)]
    try:
        proto = convert_sklearn(pipeline, initial_types=inputs, final_types=outputs, target_opset=TARGET_OPSET,
                                options={id(pipeline): {"zipmap": False}} if task == "classification" else None)
    except ExportError:
        raise
    except Exception as err:  # skl2onnx reports missing converters with its own exception types
        raise ExportError(f"ONNX conversion of model step {_describe(model)} failed: {_root_cause(err)}") from err
    _restore_input_names(proto, [name for name, _ in inputs])
    classes = getattr(model, "classes_", None)
    meta = {"task": task, "missing_token": MISSING_TOKEN,
            "classes": json.dumps([_plain(c) for c in classes]) if classes is not None else "",
            "model": _describe(model)}
    onnx.helper.set_model_props(proto, {f"spark_automl.{k}": v for k, v in meta.items()})
    _session(proto).run(None, onnx_inputs(example.head(5), proto))
    return proto


def _double_regressor(model) -> bool:
    """scikit-learn's tree regressors (1.9: float64 thresholds and values) convert to a double
    `variable`; declaring it float makes onnxruntime reject the graph."""
    inner = getattr(model, "estimator", model)
    return isinstance(inner, _SKLEARN_TREES) and not _is_classifier(inner)


def onnx_inputs(frame: pd.DataFrame, model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """Raw pandas rows -> the onnxruntime feed, read exactly as AutoFeaturizer reads them.

    Numbers travel as float64 and are imputed and scaled in float64 before the cast to float32,
    exactly as the featurizer does: rounding the raw value first could flip a tree split.
    """
    feeds: dict[str, np.ndarray] = {}
    for graph_input in model.graph.input:
        name = graph_input.name
        if name not in frame.columns:
            raise DataError(f"Input is missing column {name!r} that the ONNX model needs.")
        col = frame[name]
        if graph_input.type.tensor_type.elem_type == TensorProto.STRING:
            # Same text as the featurizer's col.astype(str), with missing values made explicit.
            text = col.astype(str).to_numpy(dtype=object)
            text[col.isna().to_numpy()] = MISSING_TOKEN
            feeds[name] = text.reshape(-1, 1)
        else:
            values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            feeds[name] = values.reshape(-1, 1)
    return feeds


def check_onnx(pipeline: Pipeline, model: onnx.ModelProto, frame: pd.DataFrame, task: str,
               atol: float = 1e-4) -> dict[str, Any]:
    """Score `frame` with onnxruntime and with the Python pipeline and compare.

    Classification: labels must agree except on near-ties (top-2 Python probabilities within
    1e-5, where float32 rounding may pick the other class) and max |proba diff| <= atol.
    Regression: |diff| <= atol * max(1, |y|) on every row (max_rel_diff is that ratio).
    """
    out = dict(zip([o.name for o in model.graph.output], _session(model).run(None, onnx_inputs(frame, model))))
    report: dict[str, Any] = {"rows": len(frame)}
    if task == "classification":
        proba = np.asarray(pipeline.predict_proba(frame), dtype=np.float64)
        diff = _abs_diff(out["probabilities"], proba)
        py_label = np.asarray(pipeline.predict(frame))
        differ = np.asarray(out["label"]).ravel().astype(str) != py_label.astype(str)
        top2 = np.sort(proba, axis=1)[:, -2:] if proba.shape[1] > 1 else np.zeros((len(proba), 2))
        tie = (top2[:, 1] - top2[:, 0]) <= 1e-5
        report.update(max_abs_diff=diff, label_mismatches=int((differ & ~tie).sum()),
                      tie_mismatches=int((differ & tie).sum()))
        report["passed"] = report["label_mismatches"] == 0 and diff <= atol
    else:
        y = np.asarray(pipeline.predict(frame), dtype=np.float64).ravel()
        got = np.asarray(out["variable"], dtype=np.float64).ravel()
        err = np.abs(got - y)
        err = np.where(np.isnan(err), np.inf, err)
        rel = float((err / np.maximum(1.0, np.abs(y))).max(initial=0.0))
        report.update(max_abs_diff=float(err.max(initial=0.0)), max_rel_diff=rel, label_mismatches=0,
                      passed=rel <= atol)
    return report


# ---- checks before conversion --------------------------------------------------------
def _split(pipeline: Pipeline) -> tuple[AutoFeaturizer, Any]:
    steps = getattr(pipeline, "steps", None)
    if not steps or len(steps) != 2 or not isinstance(steps[0][1], AutoFeaturizer):
        raise ExportError("to_onnx expects the final model: "
                          "Pipeline([('featurizer', AutoFeaturizer), ('model', estimator)]).")
    return steps[0][1], steps[1][1]


def _check_featurizer(featurizer: AutoFeaturizer) -> None:
    bad = [p for p in featurizer.plans or [] if p.purpose not in _CONVERTIBLE]
    if bad:
        listed = ", ".join(f"{p.name!r} ({p.purpose})" for p in bad)
        raise ExportError(
            f"Column(s) {listed} use featurization purposes with no exact ONNX equivalent; convertible purposes are "
            f"{sorted(_CONVERTIBLE)}. Train with enable_onnx_compatible_models=True (build_plan(onnx_compatible=True))."
        )


def _nan_columns(featurizer: AutoFeaturizer) -> list[str]:
    """Numeric columns whose missing values reach the model as NaN (featurization='off')."""
    return [p.name for p in featurizer.plans or [] if p.purpose == "numeric" and p.fill_value is not None
            and np.isnan(float(p.fill_value))]


def _check_model(model: Any, nan_columns: list[str]) -> None:
    from ..ensemble.estimators import StackEnsembleEstimator, VotingEnsembleEstimator
    from ..models.wrappers import LabelEncodedClassifier

    if isinstance(model, StackEnsembleEstimator):
        raise ExportError("StackEnsemble is not exported to ONNX; disable stacking when ONNX export is wanted.")
    if isinstance(model, VotingEnsembleEstimator):
        for member in model.members:
            _check_model(member, nan_columns)
    if isinstance(model, LabelEncodedClassifier):
        if getattr(model, "estimator_", None) is None:
            raise ExportError("LabelEncodedClassifier saw a single class when fitted (constant model): "
                              "nothing to export.")
        _check_model(model.estimator_, nan_columns)
    if nan_columns and isinstance(model, _SKLEARN_TREES):
        # skl2onnx's tree converters send NaN down the 'false' branch; scikit-learn routes it as learned.
        raise ExportError(f"Column(s) {nan_columns} pass missing values to {type(model).__name__} as NaN "
                          "(featurization='off'), and its ONNX converter routes NaN differently from scikit-learn. "
                          "Impute them (featurization='auto') or use LightGBM/XGBoost.")
    if isinstance(model, (KNeighborsClassifier, KNeighborsRegressor)) and model.weights != "uniform":
        # skl2onnx 1.20 weighs neighbours differently from scikit-learn (|diff| up to ~1% of y).
        raise ExportError(f"{type(model).__name__}(weights={model.weights!r}) has no exact ONNX converter; "
                          "only weights='uniform' converts exactly.")


def _is_classifier(model: Any) -> bool:
    task = getattr(model, "task", None)
    return task == "classification" if isinstance(task, str) else is_classifier(model)


def _describe(model: Any) -> str:
    from ..models.wrappers import LabelEncodedClassifier

    if isinstance(model, LabelEncodedClassifier):
        return f"{type(model).__name__}({type(getattr(model, 'estimator_', None)).__name__})"
    members = getattr(model, "members", None)
    if members is not None:
        return f"{type(model).__name__}({', '.join(_describe(m) for m in members)})"
    return type(model).__name__


def _restore_input_names(proto: onnx.ModelProto, raw: list[str]) -> None:
    """skl2onnx sanitises input names ('credit amount' -> 'credit_amount'); give the graph the
    raw column names back. Internal names are always sanitised, so a raw name cannot clash."""
    graph = proto.graph
    if len(graph.input) != len(raw):
        raise ExportError(f"ONNX graph has {len(graph.input)} inputs for {len(raw)} raw columns.")
    renamed = {i.name: name for i, name in zip(graph.input, raw) if i.name != name}
    for graph_input in graph.input:
        graph_input.name = renamed.get(graph_input.name, graph_input.name)
    for node in graph.node:
        for k, name in enumerate(node.input):
            if name in renamed:
                node.input[k] = renamed[name]


def _root_cause(err: BaseException, limit: int = 400) -> str:
    """The innermost error, shortened: skl2onnx wraps it with pages of node attributes."""
    while err.__cause__ is not None or err.__context__ is not None:
        err = err.__cause__ or err.__context__
    text = f"{type(err).__name__}: {err}"
    return text if len(text) <= limit else text[:limit] + " ..."


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _abs_diff(got: np.ndarray, want: np.ndarray) -> float:
    err = np.abs(np.asarray(got, dtype=np.float64) - want)
    return float(np.where(np.isnan(err), np.inf, err).max(initial=0.0))


def _session(model: onnx.ModelProto):
    import onnxruntime as ort

    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


# ---- skl2onnx registration -------------------------------------------------------
@functools.cache
def _register() -> None:
    """Register our steps, plus LightGBM/XGBoost from onnxmltools, with skl2onnx (once)."""
    import lightgbm as lgb
    import xgboost as xgb
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    from skl2onnx.operator_converters.calibrated_classifier_cv import convert_sklearn_calibrated_classifier_cv

    from ..ensemble.estimators import BaggedEstimator, VotingEnsembleEstimator
    from ..models.wrappers import LabelEncodedClassifier, RareClassCalibratedClassifierCV

    clf_options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    for cls, alias, conv in ((lgb.LGBMClassifier, "LightGbmLGBMClassifier", convert_lightgbm),
                             (xgb.XGBClassifier, "XGBoostXGBClassifier", convert_xgboost)):
        update_registered_converter(cls, alias, calculate_linear_classifier_output_shapes, conv, options=clf_options)
    update_registered_converter(lgb.LGBMRegressor, "LightGbmLGBMRegressor", calculate_linear_regressor_output_shapes,
                                convert_lightgbm, options={"split": None})
    update_registered_converter(xgb.XGBRegressor, "XGBoostXGBRegressor", calculate_linear_regressor_output_shapes,
                                convert_xgboost)
    # a CalibratedClassifierCV whose folds adapt to rare classes: fitted, it is the parent's state exactly
    update_registered_converter(RareClassCalibratedClassifierCV, "SklearnCalibratedClassifierCV",
                                calculate_linear_classifier_output_shapes, convert_sklearn_calibrated_classifier_cv,
                                options=clf_options)
    update_registered_converter(AutoFeaturizer, "SparkAutoMLAutoFeaturizer", _featurizer_shape, _convert_featurizer)
    update_registered_converter(LabelEncodedClassifier, "SparkAutoMLLabelEncodedClassifier", _classifier_shape,
                                _convert_label_encoded, parser=_parse_label_encoded, options=_IGNORED)
    for cls, alias in ((VotingEnsembleEstimator, "SparkAutoMLVotingEnsemble"), (BaggedEstimator, "SparkAutoMLBag")):
        # a bag is a vote of its fold models with equal weights: the same graph
        update_registered_converter(cls, alias, _voting_shape, _convert_voting, parser=_parse_voting,
                                    options=_IGNORED)


# ---- AutoFeaturizer ----------------------------------------------------------------
def _featurizer_shape(operator) -> None:
    from skl2onnx.common.data_types import FloatTensorType

    n = len(operator.raw_operator.get_feature_names_out())
    operator.outputs[0].type = FloatTensorType([None, n])


def _convert_featurizer(scope, operator, container) -> None:
    plans = [p for p in operator.raw_operator.plans if p.purpose != "drop"]
    by_name = {v.raw_name: v.onnx_name for v in operator.inputs}
    blocks = []
    for plan in plans:
        if plan.name not in by_name:
            raise ExportError(f"Column {plan.name!r} ({plan.purpose}) has no graph input.")
        build = _numeric_block if plan.purpose == "numeric" else _categorical_block
        blocks += build(plan, by_name[plan.name], scope, container)
    container.add_node("Concat", blocks, [operator.outputs[0].onnx_name], axis=1,
                       name=scope.get_unique_operator_name("FeaturizerConcat"))


def _const(scope, container, hint: str, values, dtype: int) -> str:
    name = scope.get_unique_variable_name(hint)
    array = np.asarray(values)
    content = [str(v).encode() for v in array.ravel()] if dtype == TensorProto.STRING else array.ravel().tolist()
    container.add_initializer(name, dtype, list(array.shape), content)
    return name


def _node(scope, container, op: str, inputs: list[str], domain: str = "", **attrs) -> str:
    out = scope.get_unique_variable_name(op.lower())
    container.add_node(op, inputs, [out], op_domain=domain, name=scope.get_unique_operator_name(op), **attrs)
    return out


def _numeric_block(plan: ColumnPlan, x: str, scope, container) -> list[str]:
    """(x filled - mean) / scale in float64, as AutoFeaturizer._numeric, then float32."""
    fill = plan.fill_value if plan.fill_value is not None else plan.mean

    def scalar(hint: str, value: float) -> str:
        return _const(scope, container, hint, [float(value)], TensorProto.DOUBLE)

    d = _node(scope, container, "Cast", [x], to=TensorProto.DOUBLE)
    nan = _node(scope, container, "IsNaN", [d])
    filled = _node(scope, container, "Where", [nan, scalar("fill", fill), d])
    centred = _node(scope, container, "Sub", [filled, scalar("mean", plan.mean)])
    scaled = _node(scope, container, "Div", [centred, scalar("scale", plan.scale)])
    out = [_node(scope, container, "Cast", [scaled], to=TensorProto.FLOAT)]
    if plan.missing_indicator:
        out.append(_node(scope, container, "Cast", [nan], to=TensorProto.FLOAT))
    return out


def _categorical_block(plan: ColumnPlan, x: str, scope, container) -> list[str]:
    """Slot index per row (LabelEncoder), then one-hot by comparing with 0..width-1."""
    index = {v: i for i, v in enumerate(plan.vocabulary) if isinstance(v, str)}  # the featurizer compares text
    other = len(plan.vocabulary)
    if plan.missing_indicator:
        missing_slot = other + 1
    elif plan.fill_value is not None:
        missing_slot = index.get(str(plan.fill_value), other)
    else:
        # The featurizer looks str(value) up like any text: 'nan' for NaN ('None' for None, rarely in a vocabulary).
        missing_slot = index.get("nan", other)
    width = other + 1 + (1 if plan.missing_indicator else 0)
    keys = [k for k in index if k != MISSING_TOKEN] + [MISSING_TOKEN]
    values = [index[k] for k in keys[:-1]] + [missing_slot]
    codes = _node(scope, container, "LabelEncoder", [x], domain="ai.onnx.ml", keys_strings=keys,
                  values_int64s=values, default_int64=other)
    slots = _const(scope, container, "slots", np.arange(width, dtype=np.int64), TensorProto.INT64)
    hit = _node(scope, container, "Equal", [codes, slots])
    return [_node(scope, container, "Cast", [hit], to=TensorProto.FLOAT)]


# ---- classifiers: label + probabilities over classes_ ------------------------------
def _label_type(classes) -> tuple[Any, int]:
    """skl2onnx tensor type and ONNX element type of the predicted label."""
    from skl2onnx.common.data_types import BooleanTensorType, DoubleTensorType, Int64TensorType, StringTensorType

    kind = np.asarray(classes).dtype.kind
    if kind == "b":
        return BooleanTensorType([None]), TensorProto.BOOL
    if kind in "iu":
        return Int64TensorType([None]), TensorProto.INT64
    if kind == "f":
        return DoubleTensorType([None]), TensorProto.DOUBLE
    return StringTensorType([None]), TensorProto.STRING


def _declare_classifier_outputs(scope, operator, classes) -> list:
    from skl2onnx.common.data_types import FloatTensorType

    label_type, _ = _label_type(classes)
    operator.outputs.append(scope.declare_local_variable("label", label_type))
    operator.outputs.append(scope.declare_local_variable("probabilities", FloatTensorType([None, len(classes)])))
    return operator.outputs


def _classifier_shape(operator) -> None:
    from skl2onnx.common.data_types import FloatTensorType

    classes = operator.raw_operator.classes_
    operator.outputs[0].type = _label_type(classes)[0]
    operator.outputs[1].type = FloatTensorType([None, len(classes)])


def _emit_label(scope, container, proba: str, classes, label_out: str) -> None:
    """label = classes[argmax(proba)]; ArgMax keeps the first maximum, like numpy."""
    _, elem = _label_type(classes)
    dtype = {TensorProto.STRING: object, TensorProto.BOOL: bool, TensorProto.INT64: np.int64}.get(elem, np.float64)
    table = _const(scope, container, "classes", np.asarray(classes).astype(dtype), elem)
    idx = _node(scope, container, "ArgMax", [proba], axis=1, keepdims=0)
    container.add_node("Gather", [table, idx], [label_out], name=scope.get_unique_operator_name("Gather"))


def _parse_child(scope, estimator, inputs, custom_parsers=None) -> list:
    """Parse a nested estimator with the registered parser, asking classifiers for plain tensors."""
    from skl2onnx._parse import _parse_sklearn

    if is_classifier(estimator) or isinstance(estimator, Pipeline):
        scope.add_options(id(estimator), {"zipmap": False})
    return _parse_sklearn(scope, estimator, inputs, custom_parsers=custom_parsers)


def _parse_label_encoded(scope, model, inputs, custom_parsers=None) -> list:
    inner = _parse_child(scope, model.estimator_, inputs, custom_parsers)
    operator = scope.declare_local_operator("SparkAutoMLLabelEncodedClassifier", model)
    operator.inputs = [inner[1]]  # the inner estimator's probabilities over codes 0..m-1
    return _declare_classifier_outputs(scope, operator, model.classes_)


def _convert_label_encoded(scope, operator, container) -> None:
    model = operator.raw_operator
    label, proba = operator.outputs[0].onnx_name, operator.outputs[1].onnx_name
    inner = operator.inputs[0].onnx_name
    k, present = len(model.classes_), np.asarray(model.present_codes_)
    if len(present) == k and np.array_equal(present, np.arange(k)):
        container.add_node("Identity", [inner], [proba], name=scope.get_unique_operator_name("Identity"))
    else:  # scatter the m present columns into their class positions (exact: products by 1 and 0)
        spread = np.zeros((len(present), k), dtype=np.float32)
        spread[np.arange(len(present)), present] = 1.0
        matrix = _const(scope, container, "spread", spread, TensorProto.FLOAT)
        container.add_node("MatMul", [inner, matrix], [proba], name=scope.get_unique_operator_name("MatMul"))
    _emit_label(scope, container, proba, model.classes_, label)


# ---- VotingEnsembleEstimator -----------------------------------------------------
def _parse_voting(scope, model, inputs, custom_parsers=None) -> list:
    from skl2onnx.common.data_types import FloatTensorType

    classification = model.task == "classification"
    member_outputs = []
    for member in model.members:
        outs = _parse_child(scope, member, inputs, custom_parsers)
        member_outputs.append(outs[1] if classification else outs[0])
    from ..ensemble.estimators import BaggedEstimator

    alias = "SparkAutoMLBag" if isinstance(model, BaggedEstimator) else "SparkAutoMLVotingEnsemble"
    operator = scope.declare_local_operator(alias, model)
    operator.inputs = member_outputs
    if classification:
        return _declare_classifier_outputs(scope, operator, np.asarray(model.classes))
    operator.outputs.append(scope.declare_local_variable("variable", FloatTensorType([None, 1])))
    return operator.outputs


def _voting_shape(operator) -> None:
    from skl2onnx.common.data_types import FloatTensorType

    model = operator.raw_operator
    if model.task == "classification":
        classes = np.asarray(model.classes)
        operator.outputs[0].type = _label_type(classes)[0]
        operator.outputs[1].type = FloatTensorType([None, len(classes)])
    else:
        operator.outputs[0].type = FloatTensorType([None, 1])


def _convert_voting(scope, operator, container) -> None:
    """sum(w_i * p_i) / sum(w), as VotingEnsembleEstimator._combine."""
    model = operator.raw_operator
    weights = np.asarray(model.weights, dtype=np.float64)
    classification = model.task == "classification"
    if not classification:  # regressors emit [N] or [N, 1], double or float: align them
        shape = _const(scope, container, "shape", np.array([-1, 1], dtype=np.int64), TensorProto.INT64)
    total = None
    for w, var in zip(weights, operator.inputs):
        x = var.onnx_name
        if not classification:
            x = _node(scope, container, "Cast", [_node(scope, container, "Reshape", [x, shape])],
                      to=TensorProto.FLOAT)
        weight = _const(scope, container, "w", np.array([w], np.float32), TensorProto.FLOAT)
        term = _node(scope, container, "Mul", [x, weight])
        total = term if total is None else _node(scope, container, "Add", [total, term])
    wsum = _const(scope, container, "wsum", np.array([weights.sum()], np.float32), TensorProto.FLOAT)
    combined = operator.outputs[1 if classification else 0].onnx_name
    container.add_node("Div", [total, wsum], [combined], name=scope.get_unique_operator_name("Div"))
    if classification:
        _emit_label(scope, container, combined, np.asarray(model.classes), operator.outputs[0].onnx_name)
