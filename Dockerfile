# syntax=docker/dockerfile:1
# Samesay service image. Two final targets:
#   runtime (default, CPU):  docker build -t samesay .
#   gpu (CUDA + faiss-gpu):  docker build --target gpu -t samesay:gpu .
# plus `test` (runtime + dev tools + tests/) used by scripts/check-containers.sh.
# Torch is installed on its own, pinned, BEFORE the project: an unpinned torch from PyPI is the
# multi-GB CUDA build. CPU torch comes from a local wheel folder when one is mounted at
# /opt/wheels (podman build -v /opt/wheels:/opt/wheels:ro ...), else from TORCH_INDEX_URL.

ARG PYTHON_IMAGE=python:3.11-slim
ARG CUDA_IMAGE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04

# ---------------------------------------------------------------- CPU build: venv in /opt/venv
FROM ${PYTHON_IMAGE} AS build
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG EXTRAS=postgres
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_FIND_LINKS=/opt/wheels \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv && pip install --upgrade pip setuptools wheel
# A C compiler for the package's two extensions (model/_gru_scan.c, model/_lexical_dots.c:
# /ask's hot loops; setup.py), in this build stage only: the runtime image copies the venv.
# python:3.11-slim has Python's headers; a Debian-Python base needs python3-dev for them.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && if [ ! -f "$(python -c 'import sysconfig; print(sysconfig.get_path("include"))')/Python.h" ]; then \
        apt-get install -y --no-install-recommends python3-dev; \
    fi \
    && rm -rf /var/lib/apt/lists/*
# Own layer: torch is ~90 % of the image and changes far less often than the code.
# The local wheel is installed by file name (its dependencies still come from PyPI), so the
# choice between it and the index never depends on how pip ranks versions.
RUN set -- /opt/wheels/torch-"${TORCH_VERSION}"+cpu-*.whl; \
    if [ -f "$1" ]; then \
        pip install "$1"; \
    else \
        pip install --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}"; \
    fi
WORKDIR /src
COPY . .
# Checked from / so that the installed package is imported, not the sources in /src.
RUN pip install ".[${EXTRAS}]" && cd / && python -c "import torch, faiss, cli.main, model._gru_scan, model._lexical_dots"

# ------------------------------------------------------- GPU build: CUDA torch + faiss-gpu
FROM ${CUDA_IMAGE} AS gpu-build
ARG TORCH_VERSION=2.13.0
ARG TORCH_CUDA_INDEX_URL=https://download.pytorch.org/whl/cu126
ARG EXTRAS=postgres,gpu
ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv \
        gcc libc6-dev python3-dev \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv && pip install --upgrade pip setuptools wheel
RUN pip install --index-url "${TORCH_CUDA_INDEX_URL}" "torch==${TORCH_VERSION}"
WORKDIR /src
COPY . .
# faiss-gpu-cu12 and faiss-cpu ship the same `faiss` module: drop the CPU one, then reinstall
# the GPU one so none of its files is missing after the uninstall.
RUN pip install ".[${EXTRAS}]" \
    && pip uninstall -y faiss-cpu \
    && pip install --force-reinstall --no-deps "faiss-gpu-cu12>=1.8"

# ------------------------------------------------------------------------ GPU runtime image
FROM ${CUDA_IMAGE} AS gpu
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends python3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --user-group --uid 10001 --create-home --home-dir /home/samesay --shell /usr/sbin/nologin samesay \
    && mkdir /data && chown samesay:samesay /data
COPY --from=gpu-build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SAMESAY_DATA_DIR=/data \
    SAMESAY_FAISS_DEVICE=auto \
    HF_HUB_OFFLINE=1
USER samesay
WORKDIR /home/samesay
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status != 200)"]
ENTRYPOINT ["samesay"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]

# -------------------------------------------------------------------- CPU runtime (default)
FROM ${PYTHON_IMAGE} AS runtime
# A fixed uid so a bind-mounted /data can be chowned to it on the host.
RUN useradd --user-group --uid 10001 --create-home --home-dir /home/samesay --shell /usr/sbin/nologin samesay \
    && mkdir /data && chown samesay:samesay /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SAMESAY_DATA_DIR=/data \
    HF_HUB_OFFLINE=1
USER samesay
WORKDIR /home/samesay
# SQLite file (when no database URL is set), model checkpoints and the FAISS index live here.
VOLUME ["/data"]
EXPOSE 8000
# Long start period: the first start of an empty volume trains the default model (~1 min).
# urlopen raises on any non-2xx answer, so a not-ready service exits non-zero.
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status != 200)"]
ENTRYPOINT ["samesay"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]

# ------------------------------------------- test: the runtime image plus dev tools and tests
# Tests run against the INSTALLED package (site-packages), exactly as the runtime image has
# it: only the `dev` extra's requirements are added (read from pyproject.toml), not the code.
FROM runtime AS test
USER root
COPY pyproject.toml /app/pyproject.toml
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/app/pyproject.toml', 'rb'))['project']['optional-dependencies']['dev']))" > /tmp/dev-requirements.txt \
    && pip install --no-cache-dir -r /tmp/dev-requirements.txt && rm /tmp/dev-requirements.txt \
    && mkdir -p /shared
COPY --chown=samesay:samesay tests /app/tests
USER samesay
WORKDIR /app
ENTRYPOINT []
CMD ["pytest", "-x", "-q", "tests"]

# ------------------------------------ default target (the last stage): the CPU runtime image
FROM runtime AS cpu
