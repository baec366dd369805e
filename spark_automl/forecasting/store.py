"""Large-panel mode: the full, filled panel as Parquet files written by Spark tasks, read back one
file (a set of whole series) at a time.

A panel past the driver's budget is never collected: each task encodes its own series as Parquet
bytes, and the driver only streams those bytes to disk (one file at a time through
`toLocalIterator`). The files are what a large-panel ForecastingModel forecasts from: logged as an
MLflow model artifact, shipped to executors with `SparkContext.addFile` by `forecast_spark`, and
read on the driver one file per group of requested series.
"""

from __future__ import annotations

import atexit
import io
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from .settings import SERIES_ID, TIME

ROWS_PER_PART = 500_000  # series rows per Parquet file: bounds an executor's and the driver's memory per file
ROW_GROUP_ROWS = 50_000  # Parquet row groups (files are sorted by series, so a filter skips row groups)
PART, STORED_ROWS = "_part", "stored_rows"
_DATA, _INDEX = "data", "index"


@dataclass
class HistoryStore:
    """Where the panel's files are, and which file holds each series."""

    path: str
    parts: dict[str, str] = field(default_factory=dict, repr=False)  # unique_id -> file name
    n_rows: int = 0
    prefix: str = ""  # before each file name: shipped files share one SparkFiles folder

    @property
    def n_series(self) -> int:
        return len(self.parts)

    def at(self, path: str, prefix: str = "") -> "HistoryStore":
        """The same files in another folder (the model's artifact copy, an executor's SparkFiles folder)."""
        return HistoryStore(path, self.parts, self.n_rows, prefix)

    def groups(self, series_ids: Iterable[str]) -> dict[str, list[str]]:
        """The requested series grouped by the file that holds them."""
        out: dict[str, list[str]] = {}
        for uid in series_ids:
            out.setdefault(self.parts[uid], []).append(uid)
        return out

    def read(self, part: str, series_ids: list[str]) -> pd.DataFrame:
        """The history of some series of one file, in the canonical frame's types."""
        dataset = pads.dataset(os.path.join(self.path, self.prefix + part), format="parquet")
        table = dataset.to_table(filter=pc.field(SERIES_ID).isin(pa.array(series_ids, pa.string())))
        frame = table.to_pandas()
        if frame[TIME].dtype.kind == "M":
            frame[TIME] = frame[TIME].astype("datetime64[ns]")
        frame[SERIES_ID] = frame[SERIES_ID].astype(object)
        return frame.sort_values([SERIES_ID, TIME], kind="stable", ignore_index=True)

    def shipped_files(self) -> tuple[list[str], str]:
        """(paths, prefix): the files under a unique prefix (hard links where the file system allows),
        for `SparkContext.addFile` one by one: a cluster refuses to add a local folder, and added files
        share one folder, so two models' 'part-00000.parquet' must not clash."""
        prefix = f"panel-{uuid.uuid4().hex}-"
        folder = tempfile.mkdtemp(prefix="spark-automl-ship-")
        _remove_at_exit(folder)
        paths = []
        for part in sorted(set(self.parts.values())):
            src, dst = os.path.join(self.path, self.prefix + part), os.path.join(folder, prefix + part)
            try:
                os.link(src, dst)
            except OSError:
                shutil.copyfile(src, dst)
            paths.append(dst)
        return paths, prefix


def _remove_at_exit(path: str) -> None:
    atexit.register(shutil.rmtree, path, True)


def _encode(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer, row_group_size=ROW_GROUP_ROWS)
    return buffer.getvalue()


def _chunks(batches: Iterator[pd.DataFrame], rows_per_part: int) -> Iterator[pd.DataFrame]:
    """Batches regrouped into chunks of about rows_per_part rows that never split a series
    (a series' rows arrive contiguously: they come from one group of the fill)."""
    pending: list[pd.DataFrame] = []
    n = 0
    for batch in batches:
        if not len(batch):
            continue
        pending.append(batch)
        n += len(batch)
        if n < rows_per_part:
            continue
        merged = pd.concat(pending, ignore_index=True)
        last = merged[SERIES_ID].iloc[-1]
        tail = (merged[SERIES_ID] == last).to_numpy()
        if tail.all():  # one series so far: keep reading
            pending = [merged]
            continue
        yield merged.loc[~tail]
        pending, n = [merged.loc[tail]], int(tail.sum())
    if pending:
        yield pd.concat(pending, ignore_index=True)


def write_panel(frame, prepare: Callable[[pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame]],
                rows_per_part: int | None = None) -> tuple[HistoryStore, pd.DataFrame]:
    """Run `prepare` over chunks of whole series in Spark tasks and store the rows it returns.

    prepare(chunk) -> (rows to store, index): the index has one row per series of the chunk, with
    SERIES_ID and STORED_ROWS (0 for a series left out). The index rows come back to the driver, the
    stored rows only as Parquet bytes, one file at a time. Returns the store and the index, with the
    file of each series in PART."""
    limit = int(rows_per_part or ROWS_PER_PART)

    def encode(batches):
        for chunk in _chunks(batches, limit):
            rows, index = prepare(chunk)
            rows = rows.sort_values([SERIES_ID, TIME], kind="stable", ignore_index=True)
            yield pd.DataFrame({_DATA: [_encode(rows) if len(rows) else None], _INDEX: [_encode(index)]})

    path = os.path.join(tempfile.mkdtemp(prefix="spark-automl-panel-"), f"panel-{uuid.uuid4().hex}")
    os.makedirs(path)
    _remove_at_exit(os.path.dirname(path))
    encoded = frame.mapInPandas(encode, f"{_DATA} binary, {_INDEX} binary")
    indexes, n_parts = [], 0
    for row in encoded.toLocalIterator():  # one file's bytes at a time reach the driver
        part = None
        if row[_DATA] is not None:
            part = f"part-{n_parts:05d}.parquet"
            with open(os.path.join(path, part), "wb") as fh:
                fh.write(row[_DATA])
            n_parts += 1
        indexes.append(pq.read_table(io.BytesIO(row[_INDEX])).to_pandas().assign(**{PART: part}))
    index = pd.concat(indexes, ignore_index=True) if indexes else pd.DataFrame(columns=[SERIES_ID, STORED_ROWS, PART])
    return _store(path, index), index


def _store(path: str, index: pd.DataFrame) -> HistoryStore:
    stored = index[index[STORED_ROWS] > 0] if len(index) else index
    parts = dict(zip(stored[SERIES_ID].astype(str), stored[PART]))
    return HistoryStore(path, parts, int(stored[STORED_ROWS].sum()) if len(stored) else 0)
