"""spark-submit entry point: `spark-submit jobs/score.py --config conf/base/score.yaml`."""

import sys

from spark_automl.cli import main

if __name__ == "__main__":
    sys.exit(main(["score", *sys.argv[1:]]))
