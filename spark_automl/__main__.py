"""`python -m spark_automl ...`: the spark-automl command."""

import sys

from .cli import main

sys.exit(main())
