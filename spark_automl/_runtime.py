"""Process settings that must be in place before native learners load.

OpenMP threads that spin while waiting (the GNU default) make multi-threaded LightGBM
erratic on small machines: the same fit measured 1.9 s to 80 s with 2 threads on 2 vCPUs,
and 4 s steady with OMP_WAIT_POLICY=PASSIVE. A value the user set is kept; Spark's
Python workers inherit it from the driver. Passive threads are slow to wake, so a small fit of
an OpenMP learner runs on one thread (ModelSpec.threads_from_cells).
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Artifact downloads (re-attaching a run, loading its model) would draw a progress bar per file.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
