"""Turn whatever the user passed into one cached Spark DataFrame, never touching the input."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
import pyspark.sql.functions as F
from pyspark.sql import DataFrame, SparkSession

from ..errors import DataError
from ..spark_utils import ROW_ID

_READERS = {".csv": "csv", ".parquet": "parquet", ".json": "json", ".orc": "orc", ".gz": "csv"}


def to_spark(spark: SparkSession, data: Any, role: str = "training_data") -> DataFrame:
    """Spark DataFrame | pandas DataFrame | file path | table name -> Spark DataFrame."""
    if isinstance(data, DataFrame):
        return data
    if isinstance(data, pd.DataFrame):
        if data.empty:
            raise DataError(f"'{role}' is an empty pandas DataFrame; pass at least one row.")
        # createDataFrame copies: the caller's frame is never modified.
        try:
            return spark.createDataFrame(data)
        except (TypeError, ValueError) as err:  # PySparkTypeError / PySparkValueError derive from these
            raise _mixed_types_error(data, role, err) from None
    if isinstance(data, str):
        return _read_path_or_table(spark, data, role)
    raise DataError(
        f"'{role}' must be a Spark DataFrame, a pandas DataFrame, a table name or a file path; "
        f"got {type(data).__name__}."
    )


def _mixed_types_error(frame: pd.DataFrame, role: str, err: Exception) -> DataError:
    """Spark needs one type per column: name the pandas column that mixes value types, and the fix."""
    for name in frame.columns:
        if frame[name].dtype == object:
            kinds = sorted({type(v).__name__ for v in frame[name].dropna()})
            if len(kinds) > 1:
                return DataError(f"Column {name!r} of '{role}' mixes value types ({', '.join(kinds)}); Spark needs one "
                                 f"type per column. Fix: convert it, e.g. pd.to_datetime(df[{name!r}], errors='coerce'),"
                                 f" pd.to_numeric(..., errors='coerce') or .astype(str).")
    return DataError(f"'{role}' cannot become a Spark DataFrame: {type(err).__name__}: {err}. Fix: give each column "
                     "one type (pandas dtype object columns are the usual cause).")


def _read_path_or_table(spark: SparkSession, name: str, role: str) -> DataFrame:
    path = name[len("file:"):] if name.startswith("file:") else name
    suffix = os.path.splitext(path)[1].lower()
    if suffix in _READERS or os.path.exists(path):
        if not os.path.exists(path) and "://" not in name:
            raise DataError(f"'{role}' path {name!r} does not exist. Pass an existing file, folder or table name.")
        fmt = sniff_format(path, role) if os.path.exists(path) else _READERS.get(suffix, "parquet")
        reader = spark.read.format(fmt)
        if fmt == "csv":
            reader = reader.option("header", "true").option("inferSchema", "true")
        return reader.load(name)
    try:
        return spark.table(name)
    except Exception as err:  # AnalysisException: not found
        raise DataError(
            f"'{role}' {name!r} is neither an existing file path nor a table known to Spark ({err.__class__.__name__})."
        ) from None


def _first_data_file(path: str) -> str | None:
    if os.path.isfile(path):
        return path
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in sorted(files):
            if not name.startswith((".", "_")) and not name.endswith(".crc"):
                return os.path.join(folder, name)
    return None


def sniff_format(path: str, role: str = "training_data") -> str:
    """A local file's (or folder's) format from its first bytes, not its name: a CSV named .txt, or
    Parquet named .csv, is read as what it is."""
    first = _first_data_file(path)
    if first is None:
        raise DataError(f"'{role}' folder {path!r} holds no data file.")
    with open(first, "rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"ORC"):
        return "orc"
    if head.startswith(b"\x1f\x8b"):
        if not first.endswith(".gz"):
            raise DataError(f"'{role}' file {first!r} is gzip-compressed but its name does not end in .gz, so "
                            "Spark would not decompress it. Fix: rename it to end in .csv.gz.")
        return "csv"
    if b"\x00" in head:
        raise DataError(f"'{role}' file {first!r} is neither CSV, JSON, Parquet nor ORC (binary content). "
                        "Fix: pass a CSV, JSON lines, Parquet or ORC file, or a table name.")
    return "json" if head.lstrip()[:1] in (b"{", b"[") else "csv"


def with_row_ids(df: DataFrame) -> DataFrame:
    """A stable per-row id, fixed by caching, that seeds fold assignment deterministically."""
    if ROW_ID in df.columns:
        return df
    return df.withColumn(ROW_ID, F.monotonically_increasing_id())
