#!/usr/bin/env bash
# The GPU check, for a session that is lent a GPU machine (the library's `device` tool):
#   bash scripts/gpu-check.sh prepare   # here: wheels + a reduced data root in .gpu-check/
#   run: bash scripts/gpu-check.sh run  # there, carry [".gpu-check"]; log + JSON under $OUT
#   GPU_CHECK_PYTHON=.venv/bin/python GPU_CHECK_DEVICE=cpu GPU_CHECK_EPOCHS=1 \
#     bash scripts/gpu-check.sh run     # here: the same steps on the CPU, to try the script
# It trains on CUDA (the base recipe on a reduced data root, the first-start fine-tune through
# `bench faq`, CLINC150 fine-tuned from the base), runs the same trainings on the CPU beside
# them, and shows what FAISS does with a GPU visible. The device image has Python 3.12 and a
# CUDA torch but not the service's other dependencies; nothing there can be downloaded, and
# at most 64 MiB travel with the working tree, so the data root is a sample of ../shared.
# faiss-gpu-cu12 needs CUDA 12's cuBLAS (a ~500 MB wheel): it cannot travel, and the image is
# CUDA 13, so the FAISS step checks the fallback (a GPU visible, faiss without CUDA).
set -uo pipefail
cd "$(dirname "$0")/.."
dir=.gpu-check
case "${1:-}" in
prepare)
  rm -rf "$dir" && mkdir -p "$dir/wheels"
  # The versions this checkout's .venv runs, for the device's Python.
  pins=$(.venv/bin/pip freeze | grep -iE '^(faiss-cpu|pydantic|pydantic[-_]core|pydantic-settings|python-dotenv|annotated-types|annotated-doc|typing[-_]inspection|typing[-_]extensions|sqlalchemy|greenlet|alembic|mako|orjson|fastapi|starlette|uvicorn|anyio|opentelemetry-api)==')
  # shellcheck disable=SC2086  # one argument per pin
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$dir/wheels" $pins || exit 1
  .venv/bin/python - "$dir/data" <<'PY' || exit 1
"""A reduced data root: licence-clean teacher rows sampled (24k EN, 8k ZH), hwu64_en, clinc150."""
import random, shutil, sys
from pathlib import Path
import numpy as np
from training.base_recipe import SHIPPABLE_SOURCES
shared, out = Path("../shared/data"), Path(sys.argv[1])
(out / "teacher_vectors").mkdir(parents=True)
for name, n in (("minilm_en", 24_000), ("use_zh", 8_000)):
    folder = shared / "teacher_vectors"
    lines = (folder / f"{name}_sentences.tsv").read_text(encoding="utf-8").splitlines()
    clean = [i for i, line in enumerate(lines) if line.rsplit("\t", 1)[1] in SHIPPABLE_SOURCES]
    keep = sorted(random.Random(0).sample(clean, n))
    np.save(out / "teacher_vectors" / f"{name}_int8.npy", np.load(folder / f"{name}_int8.npy")[keep])
    np.save(out / "teacher_vectors" / f"{name}_scale.npy", np.load(folder / f"{name}_scale.npy")[keep])
    (out / "teacher_vectors" / f"{name}_sentences.tsv").write_text(
        "".join(lines[i] + "\n" for i in keep), encoding="utf-8")
for name in ("hwu64_en", "clinc150"):
    shutil.copytree(shared / name, out / name)
PY
  du -sh "$dir"/*
  ;;
run)
  export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD:/tmp/site
  python=${GPU_CHECK_PYTHON:-python3} device=${GPU_CHECK_DEVICE:-cuda}
  epochs=${GPU_CHECK_EPOCHS:+--epochs $GPU_CHECK_EPOCHS}  # a quicker try of the script
  out=${OUT:-/tmp/gpu-check-out}; mkdir -p "$out"
  exec > >(tee -a "$out/log.txt") 2>&1
  t0=$SECONDS
  step() { echo "=== [$((SECONDS - t0)) s] $*"; }
  bars() { tr '\r' '\n' | grep -v 'batch/s\|it/s\|^\s*$'; }
  samesay() { "$python" -m cli.main "$@"; }
  if [ -z "${GPU_CHECK_PYTHON:-}" ]; then  # the device's python3 lacks the service's packages
    step install
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site "$dir"/wheels/*.whl || exit 1
  fi
  step probe
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
  "$python" -c "import torch, faiss; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available(), torch.cuda.is_available() and torch.cuda.get_device_name(0), 'cudnn', torch.backends.cudnn.version()); print('faiss', faiss.__version__, 'GPUs', faiss.get_num_gpus())"
  step "FAISS with a GPU visible: the index says where it searches"
  "$python" - <<'PY'
import numpy as np
from index.faq_index import FaqIndex, IndexConfig, gpu_available, vector_ids
x = np.random.default_rng(0).standard_normal((5000, 256)).astype(np.float32)
x /= np.linalg.norm(x, axis=1, keepdims=True)
ids = np.concatenate([vector_ids(10 * (i + 1), 1) for i in range(5000)])
print("gpu_available", gpu_available())
for device in ("auto", "gpu", "cpu"):
    index = FaqIndex.build(x, ids, IndexConfig(device=device))
    print(device, "on_gpu", index.on_gpu, index.kind, "top hit of row 7", index.search(x[7], 1))
PY
  base="train --recipe base --data $dir/data --no-teacher-start --synthetic-en 0 ${epochs:---epochs 2}"
  step "base recipe (reduced root) on $device"
  # shellcheck disable=SC2086
  time samesay $base --device "$device" --out /tmp/base-cuda 2>&1 | bars | tail -n 8
  cp /tmp/base-cuda/checkpoint.json "$out/base-cuda.json"
  step "bench faq demo on $device (the first-start fine-tune from the shipped base)"
  # shellcheck disable=SC2086
  samesay bench faq --data demo --columns shipped,scratch,bm25 --seeds 0 1 --no-progress \
    $epochs --out /tmp/faq-cuda 2>&1 | bars | tail -n 25
  cp /tmp/faq-cuda/faq.json "$out/faq-cuda.json"
  step "bench quality CLINC150 fine-tuned from the base on $device, seed 0"
  # shellcheck disable=SC2086
  samesay bench quality --data "$dir/data/clinc150" --out /tmp/q-cuda --init-from model/base \
    --members 1 --device "$device" --seed 0 $epochs 2>&1 | bars | tail -n 40
  cp /tmp/q-cuda/*.json "$out/" 2>/dev/null
  step "the same base recipe on the CPU (16 threads)"
  # shellcheck disable=SC2086
  time samesay $base --device cpu --threads 16 --out /tmp/base-cpu 2>&1 | bars | tail -n 8
  cp /tmp/base-cpu/checkpoint.json "$out/base-cpu.json"
  step "bench faq demo on the CPU (CUDA hidden, 16 threads), shipped column"
  # shellcheck disable=SC2086
  CUDA_VISIBLE_DEVICES= samesay bench faq --data demo --columns shipped --seeds 0 1 --threads 16 \
    --no-progress $epochs --out /tmp/faq-cpu 2>&1 | bars | tail -n 14
  cp /tmp/faq-cpu/faq.json "$out/faq-cpu.json"
  step done
  ;;
*) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
