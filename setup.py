"""The two C extensions of the /ask hot path, both optional speed-ups:

- model/_gru_scan.c: the serving encoder's GRU recurrence (model/fast_path.py);
- model/_lexical_dots.c: the lexical rescore's TF-IDF dots (model/lexical.py).

Where no C compiler is found the install goes on without them and the same code runs in
NumPy (slower; the same vectors to 1e-5, the same dots to the bit). Everything else about
the package is in pyproject.toml.
"""

import sys

from setuptools import Extension, setup

# -O3 vectorises the gate loops; -fno-trapping-math lets GCC turn their clamps into vector
# selects. Not -ffast-math: its crtfastmath would switch the whole process to flush-to-zero.
FLAGS = [] if sys.platform == "win32" else ["-O3", "-fno-trapping-math"]

setup(
    ext_modules=[
        Extension(f"model.{name}", [f"model/{name}.c"], extra_compile_args=FLAGS, optional=True)
        for name in ("_gru_scan", "_lexical_dots")
    ]
)
