"""spark-submit entry point: `spark-submit jobs/train.py --config conf/base/train.yaml`."""

import sys

from spark_automl.cli import train

if __name__ == "__main__":
    sys.exit(train())
