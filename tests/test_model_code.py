"""A logged model carries the modules its pickle names and what they import, nothing else."""

from spark_automl.model_code import PackageFiles, needed_paths, referenced_modules


def test_the_closure_follows_the_pickle_and_the_imports_lazy_ones_included():
    from spark_automl.featurize.transformer import AutoFeaturizer, ColumnPlan

    featurizer = AutoFeaturizer([ColumnPlan("x", "numeric", "numeric column")])
    assert referenced_modules(featurizer) == {"spark_automl.featurize.transformer"}
    files = PackageFiles()
    paths = needed_paths(files, referenced_modules(featurizer))
    assert {"spark_automl/__init__.py", "spark_automl/featurize/__init__.py",
            "spark_automl/featurize/transformer.py", "spark_automl/errors.py"} <= paths
    assert not {"spark_automl/tracking.py", "spark_automl/cli.py", "spark_automl/orchestrator.py"} & paths
    assert not any(p.endswith((".csv", ".gz")) for p in paths)
    everything = sum(len(read()) for read in files.readers.values())
    assert sum(len(files.readers[p]()) for p in paths) < everything / 5
