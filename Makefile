# Two commands on a fresh machine:  `make train`  and  `make test`.
PYTHON ?= python3
# The two test venvs install side by side. (pip install --no-compile was tried: the install is 3x faster
# but every fresh process then compiles what it imports; three processes migrating a new MLflow store
# at once overran a 15 s tracking bound, and the main test lane took 1.5 min longer.)
MAKEFLAGS += -j2
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed
# The pyspark 3.5 lane: a second venv, same pins but pyspark 3.5 (Databricks 15.4 LTS / 16.x), with the
# CORE install only (no forecast/onnx/explain extras): it proves the light install trains and scores.
VENV35  ?= .venv-spark35
PY35     = $(VENV35)/bin/python
STAMP35  = $(VENV35)/.installed

.PHONY: setup train score forecast test test-fast test-spark35 bench clean

# The tested Python: the pinned set needs 3.11 or newer (README, setup.cfg's python_requires).
PYCHECK = $(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if v >= (3, 11) else \
	"spark-automl needs Python 3.11 or newer (tested on 3.11); $(PYTHON) is %d.%d. Run: make PYTHON=python3.11 ..." % v)'

$(STAMP): setup.cfg pyproject.toml requirements/constraints.txt
	@$(PYCHECK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements/constraints.txt -e ".[spark,test,all]"
	touch $(STAMP)

$(STAMP35): setup.cfg pyproject.toml requirements/constraints-spark35.txt
	@$(PYCHECK)
	test -x $(PY35) || $(PYTHON) -m venv $(VENV35)
	$(PY35) -m pip install --quiet --upgrade pip
	$(PY35) -m pip install --quiet -c requirements/constraints-spark35.txt -e ".[spark,test]"
	touch $(STAMP35)

setup: $(STAMP)

## Train on the bundled credit_g data: local Spark, MLflow in ./mlflow.db, registers the best model as
## the challenger, then promotes it to champion if it beats the current one (the first always does).
train: $(STAMP)
	$(PY) jobs/train.py --config conf/base/train.yaml
	$(PY) jobs/promote.py --config conf/base/promote.yaml

## Batch-score the bundled rows with the champion (after `make train`): Parquet in scores/.
score: $(STAMP)
	$(PY) jobs/score.py --config conf/base/score.yaml

## Forecast the bundled airline series 12 months ahead (same embedded defaults).
forecast: $(STAMP)
	$(PY) jobs/train.py --config conf/base/train_forecaster.yaml
	$(PY) jobs/forecast.py --config conf/base/forecast.yaml

## Set up and run the whole test suite (unit + Spark integration + slow end-to-end), then the Spark
## integration tests again on pyspark 3.5.
test: $(STAMP) $(STAMP35)
	$(PY) -m pytest -ra -q tests
	$(PY35) -m pytest -ra -q -m "spark and not slow" tests

test-spark35: $(STAMP35)
	$(PY35) -m pytest -ra -q -m "spark and not slow" tests

test-fast: $(STAMP)
	$(PY) -m pytest -ra -q -m "not slow" tests

bench: $(STAMP)
	$(PY) -m pip install --quiet -c requirements/constraints.txt -e ".[bench]"
	$(PY) benchmarks/bench_vs_flaml.py

clean:
	rm -rf mlflow.db mlruns spark-warehouse metastore_db derby.log
