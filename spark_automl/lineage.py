"""The run's datasets as MLflow dataset inputs (training / validation / test), so the run page says
what the model learned from. Built from what is already known (the source the user named and the
Spark schema): recording lineage costs no Spark job and no row leaves the data."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

CONTEXTS = (("training_data", "training"), ("validation_data", "validation"), ("test_data", "test"))


def _source(value: Any) -> tuple[str, dict[str, Any]]:
    """(source_type, source) in MLflow's vocabulary: a file or folder, a table, or data in memory."""
    if isinstance(value, str):
        if os.path.exists(value):
            return "local", {"uri": os.path.abspath(value)}
        return "table", {"table_name": value}
    return "code", {"kind": f"{type(value).__module__.split('.')[0]} {type(value).__name__} passed in memory"}


def _fingerprint(value: Any) -> str:
    """What changes when the data does, cheaply: a file's size and mtime, else nothing (a table or an
    in-memory frame is identified by its name and schema)."""
    if isinstance(value, str) and os.path.isfile(value):
        st = os.stat(value)
        return f"{st.st_size}:{st.st_mtime_ns}"
    return ""


def dataset_input(value: Any, frame: Any, context: str, label: str | None):
    """One mlflow DatasetInput for a config's data value and its Spark DataFrame (for the schema)."""
    from mlflow.entities import Dataset, DatasetInput, InputTag

    source_type, source = _source(value)
    columns = [{"name": f.name, "type": f.dataType.simpleString()} for f in frame.schema.fields] if frame is not None else []
    schema = {"mlflow_colspec": [{"name": c["name"], "type": c["type"]} for c in columns]}
    digest = hashlib.sha256(json.dumps([source, columns, _fingerprint(value)], sort_keys=True).encode()).hexdigest()[:8]
    name = os.path.basename(str(source.get("uri") or source.get("table_name") or context)).split(".")[0] or context
    profile = {"num_columns": len(columns), **({"targets": label} if label else {})}
    dataset = Dataset(name=name, digest=digest, source_type=source_type, source=json.dumps(source),
                      schema=json.dumps(schema), profile=json.dumps(profile))
    return DatasetInput(dataset, tags=[InputTag("mlflow.data.context", context)])


def dataset_inputs(config: Any, frames: dict[str, Any]) -> list:
    """The DatasetInputs of every dataset the config names; frames: role -> Spark DataFrame (or None)."""
    return [dataset_input(getattr(config, role), frames.get(role), context, config.label_column_name)
            for role, context in CONTEXTS if getattr(config, role, None) is not None]
