"""spark-submit entry point: `spark-submit jobs/forecast.py --config conf/base/forecast.yaml`."""

import sys

from spark_automl.cli import main

if __name__ == "__main__":
    sys.exit(main(["forecast", *sys.argv[1:]]))
