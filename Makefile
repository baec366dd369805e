# Two commands on a fresh machine:  `make train`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed
# The pyspark 3.5 lane: a second venv, same pins but pyspark 3.5 (Databricks 15.4 LTS / 16.x).
VENV35  ?= .venv-spark35
PY35     = $(VENV35)/bin/python
STAMP35  = $(VENV35)/.installed

.PHONY: setup train forecast test test-fast test-spark35 bench clean

$(STAMP): setup.cfg pyproject.toml requirements/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements/constraints.txt -e ".[spark,test]"
	touch $(STAMP)

$(STAMP35): setup.cfg pyproject.toml requirements/constraints-spark35.txt
	test -x $(PY35) || $(PYTHON) -m venv $(VENV35)
	$(PY35) -m pip install --quiet --upgrade pip
	$(PY35) -m pip install --quiet -c requirements/constraints-spark35.txt -e ".[spark,test]"
	touch $(STAMP35)

setup: $(STAMP)

## Train on the bundled credit_g data: local Spark, MLflow in ./mlflow.db, registers the best model.
train: $(STAMP)
	$(PY) jobs/train.py --config conf/base/train.yaml

## Forecast the bundled airline series 12 months ahead (same embedded defaults).
forecast: $(STAMP)
	$(PY) jobs/train.py --config conf/base/forecast.yaml

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
