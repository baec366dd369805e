"""spark-submit entry point: `spark-submit jobs/promote.py --config conf/base/promote.yaml`."""

import sys

from spark_automl.cli import main

if __name__ == "__main__":
    sys.exit(main(["promote", *sys.argv[1:]]))
