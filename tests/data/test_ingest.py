"""Input files are read by what they hold, not by their names."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from spark_automl.data.ingest import sniff_format, to_spark
from spark_automl.errors import DataError

FRAME = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})


def test_formats_are_sniffed_from_the_first_bytes(tmp_path):
    FRAME.to_csv(tmp_path / "data.txt", index=False)
    FRAME.to_parquet(tmp_path / "data.csv")
    (tmp_path / "data.json").write_text('{"a": 1, "b": "x"}\n')
    (tmp_path / "blob.csv").write_bytes(b"\x00\x01\x02binary")
    with gzip.open(tmp_path / "zipped.txt", "wt") as fh:
        FRAME.to_csv(fh, index=False)
    assert sniff_format(str(tmp_path / "data.txt")) == "csv"
    assert sniff_format(str(tmp_path / "data.csv")) == "parquet"
    assert sniff_format(str(tmp_path / "data.json")) == "json"
    with pytest.raises(DataError, match=r"blob\.csv' is neither CSV, JSON, Parquet nor ORC"):
        sniff_format(str(tmp_path / "blob.csv"))
    with pytest.raises(DataError, match=r"gzip-compressed .* rename it to end in \.csv\.gz"):
        sniff_format(str(tmp_path / "zipped.txt"), role="validation_data")


@pytest.mark.spark
def test_a_csv_named_txt_and_parquet_named_csv_are_read_as_what_they_are(spark, tmp_path):
    FRAME.to_csv(tmp_path / "data.txt", index=False)
    FRAME.to_parquet(tmp_path / "data.csv")
    for name in ("data.txt", "data.csv"):
        got = to_spark(spark, str(tmp_path / name)).toPandas()
        assert got.columns.tolist() == ["a", "b"] and got["b"].tolist() == ["x", "y", "z"]
    spark.createDataFrame(FRAME).repartition(2).write.parquet(str(tmp_path / "folder"))
    assert sniff_format(str(tmp_path / "folder")) == "parquet"  # _SUCCESS and .crc files are skipped
    assert sorted(to_spark(spark, str(tmp_path / "folder")).toPandas()["a"]) == [1, 2, 3]
