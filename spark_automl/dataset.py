"""Dataset: Azure's TabularDataset, as a path (a file, a folder, a URL Spark can read, or an MLflow
artifact URI). `Dataset.Tabular.from_delimited_files(path)` is what Azure code writes; AutoMLConfig
takes the dataset as its path, so it is read by Spark (never collected whole)."""

from __future__ import annotations

from typing import Any

from .errors import ConfigError


class TabularDataset:
    def __init__(self, path: str):
        if not isinstance(path, str) or not path.strip():
            raise ConfigError(f"A TabularDataset needs a path or URL (str); got {path!r}.")
        self.path = path

    @property
    def id(self) -> str:
        return self.path

    def _local(self) -> str:
        """An MLflow artifact URI (runs:/..., or a store's artifact location) is fetched first."""
        if self.path.startswith(("runs:/", "models:/", "mlflow-artifacts:/")) or "/artifacts/" in self.path:
            import mlflow.artifacts

            try:
                return mlflow.artifacts.download_artifacts(artifact_uri=self.path)
            except Exception:  # noqa: BLE001 - a plain path that merely contains "/artifacts/"
                return self.path
        return self.path

    def to_pandas_dataframe(self):
        import pandas as pd

        local = self._local()
        if local.lower().endswith((".parquet", ".pq")):
            return pd.read_parquet(local)
        return pd.read_csv(local)

    def to_spark_dataframe(self, spark=None):
        from .data.ingest import to_spark
        from .spark_utils import default_session

        return to_spark(spark or default_session(), self._local(), "dataset")

    def __repr__(self) -> str:
        return f"TabularDataset(path={self.path!r})"


class _TabularFactory:
    @staticmethod
    def from_delimited_files(path: Any, **_azure_only: Any) -> TabularDataset:
        """Azure accepts a list of paths; here one path (a file, a folder of files or a glob Spark reads)."""
        if isinstance(path, (list, tuple)):
            if len(path) != 1:
                raise ConfigError("from_delimited_files takes one path here (a folder or a glob covers several "
                                  f"files); got {len(path)}.")
            path = path[0]
        return TabularDataset(path)

    from_parquet_files = from_delimited_files


class Dataset:
    Tabular = _TabularFactory()

    @staticmethod
    def get_by_id(workspace: Any, id: str) -> TabularDataset:  # noqa: A002 - Azure's name
        """A dataset by the id a run's details name (for a model test: its predictions' artifact URI)."""
        return TabularDataset(id)
