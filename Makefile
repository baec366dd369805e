# Two commands on a fresh machine:  `make train`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: setup train forecast test test-fast bench clean

$(STAMP): setup.cfg pyproject.toml requirements/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements/constraints.txt -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

## Train on the bundled credit_g data: local Spark, MLflow in ./mlflow.db, registers the best model.
train: $(STAMP)
	$(PY) jobs/train.py --config conf/base/train.yaml

## Forecast the bundled airline series 12 months ahead (same embedded defaults).
forecast: $(STAMP)
	$(PY) jobs/train.py --config conf/base/forecast.yaml

## Set up and run the whole test suite (unit + Spark integration + slow end-to-end).
test: $(STAMP)
	$(PY) -m pytest -ra -q tests

test-fast: $(STAMP)
	$(PY) -m pytest -ra -q -m "not slow" tests

bench: $(STAMP)
	$(PY) -m pip install --quiet -c requirements/constraints.txt -e ".[bench]"
	$(PY) benchmarks/bench_vs_flaml.py

clean:
	rm -rf mlflow.db mlruns spark-warehouse metastore_db derby.log
