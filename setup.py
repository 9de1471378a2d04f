"""The one C extension: model/_gru_scan.c, the GRU recurrence of the serving encoder.

Optional by design: where no C compiler is found the install goes on without it and
model/fast_path.py runs the same recurrence in NumPy (slower, same vectors to 1e-5).
Everything else about the package is in pyproject.toml.
"""

import sys

from setuptools import Extension, setup

# -O3 vectorises the gate loops; -fno-trapping-math lets GCC turn their clamps into vector
# selects. Not -ffast-math: its crtfastmath would switch the whole process to flush-to-zero.
FLAGS = [] if sys.platform == "win32" else ["-O3", "-fno-trapping-math"]

setup(
    ext_modules=[
        Extension("model._gru_scan", ["model/_gru_scan.c"], extra_compile_args=FLAGS, optional=True)
    ]
)
