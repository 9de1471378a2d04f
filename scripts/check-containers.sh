#!/usr/bin/env bash
# Proves the container set-up on a machine that can build images but not run containers:
#   1. docker-compose.yml validates (`docker-compose config`, Debian's docker-compose);
#   2. the CPU image builds with podman (chroot isolation, local torch wheel mounted);
#   3. inside the built image's filesystem (podman image mount + chroot, as the image's
#      non-root user): `samesay --help` works and the test suite passes against the
#      INSTALLED package, with PostgreSQL reached on the host's 127.0.0.1:5432.
# Usage (as root): bash scripts/check-containers.sh
# Env: PYTEST_ARGS (default: the whole suite, -x -q), SKIP_TESTS=1, NO_CACHE=1 (cold build),
#      SAMESAY_TEST_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
image=samesay:check
test_image=samesay:check-test
PYTEST_ARGS=${PYTEST_ARGS:-"-x -q -p no:cacheprovider tests"}
export SAMESAY_TEST_DATABASE_URL=${SAMESAY_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
started=$SECONDS
step() { echo "== [$((SECONDS - started)) s] $*"; }

[ "$(id -u)" = 0 ] || { echo "check-containers: run as root (podman build, mount, chroot)" >&2; exit 2; }

step "tools: podman, debootstrap, docker-compose (Debian packages)"
missing=()
for tool in podman debootstrap docker-compose; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q "${missing[@]}" >/dev/null
fi

step "compose: docker-compose config (with .env.example as the .env)"
SAMESAY_ENV_FILE=.env.example docker-compose --env-file .env.example -f docker-compose.yml config -q
services=$(SAMESAY_ENV_FILE=.env.example docker-compose --env-file .env.example \
  -f docker-compose.yml --profile train --profile proxy config --services)
for service in postgres api trainer proxy; do
  grep -qx "$service" <<<"$services" || { echo "compose: no $service service" >&2; exit 1; }
done
# Without a .env the file must refuse to start rather than run with a default password.
if docker-compose --env-file /dev/null -f docker-compose.yml config -q 2>/dev/null; then
  echo "compose: validated without POSTGRES_PASSWORD; it must be required" >&2; exit 1
fi

step "base image: local stand-in for python:3.11-slim (../shared/tools/container-base.sh)"
nice -n 10 bash ../shared/tools/container-base.sh

build_args=(--isolation=chroot --format docker)   # docker format keeps HEALTHCHECK
[ -d /opt/wheels ] && build_args+=(-v /opt/wheels:/opt/wheels:ro)
cold=()
[ "${NO_CACHE:-0}" = 1 ] && cold=(--no-cache)   # the test target then reuses these layers
step "build: podman build --target cpu -t $image ."
t0=$SECONDS
nice -n 10 podman build "${build_args[@]}" "${cold[@]}" --target cpu -t "$image" . > /tmp/samesay-build.log 2>&1 \
  || { tail -n 40 /tmp/samesay-build.log; exit 1; }
step "built in $((SECONDS - t0)) s; image size $(podman image inspect "$image" --format '{{.Size}}' \
  | awk '{printf "%.0f MB", $1 / 1e6}')"

# Each rebuild leaves the previous, now untagged image behind (~1.5 GB of layers each).
# Pruning is housekeeping, not a check: an image still held by a container another run left
# behind (an interrupted build's) makes prune fail, and that must not fail the checks.
podman image prune -f >/dev/null 2>/tmp/samesay-prune.log \
  || echo "note: podman image prune skipped: $(tail -n 1 /tmp/samesay-prune.log)"
step "image config: non-root user, healthcheck, entrypoint, /data volume"
podman image inspect "$image" --format '{{.Config.User}} {{json .Config.Entrypoint}} {{json .Config.Cmd}}'
user=$(podman image inspect "$image" --format '{{.Config.User}}')
[ -n "$user" ] && [ "$user" != root ] && [ "$user" != 0 ] || { echo "image runs as root" >&2; exit 1; }
podman image inspect "$image" --format '{{json .Config.Healthcheck}}' | grep -q readyz \
  || { echo "image has no /readyz HEALTHCHECK" >&2; exit 1; }
podman image inspect "$image" --format '{{json .Config.Volumes}}' | grep -q '"/data"' \
  || { echo "image declares no /data volume" >&2; exit 1; }

mounts=()
cleanup() {
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null || true; done
  podman image unmount "$image" >/dev/null 2>&1 || true
  podman image unmount "$test_image" >/dev/null 2>&1 || true
}
trap cleanup EXIT
# chroot into an image as its user, with /proc, /dev, a fresh /tmp and the host's network.
in_image() {
  local root=$1; shift
  chroot --userspec=10001:10001 "$root" /usr/bin/env -i HOME=/home/samesay \
    PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 SAMESAY_DATA_DIR=/tmp/data \
    COLUMNS="${COLUMNS:-240}" SAMESAY_TEST_DATABASE_URL="$SAMESAY_TEST_DATABASE_URL" \
    HF_HUB_OFFLINE=1 "$@"
}
prepare_root() {
  local root=$1
  mount -t proc proc "$root/proc" && mounts+=("$root/proc")
  mount --bind /dev "$root/dev" && mounts+=("$root/dev")
  mount -t tmpfs -o size=2g,mode=1777 tmpfs "$root/tmp" && mounts+=("$root/tmp")
}

root=$(podman image mount "$image")
prepare_root "$root"
step "in image: samesay --help (as uid 10001)"
in_image "$root" samesay --help
in_image "$root" python -c "import torch, faiss; print('torch', torch.__version__, '| faiss', faiss.__version__)"
# /ask's C extensions were compiled in the build stage (a NumPy fallback would be silent).
in_image "$root" python -c "from model import fast_path, lexical; assert fast_path.native_scan and lexical.native_dots, 'not built'; print('C extensions: built')"

if [ "${SKIP_TESTS:-0}" != 1 ]; then
  step "build: podman build --target test -t $test_image . (runtime + dev extras + tests/)"
  nice -n 10 podman build "${build_args[@]}" --target test -t "$test_image" . \
    > /tmp/samesay-build-test.log 2>&1 || { tail -n 40 /tmp/samesay-build-test.log; exit 1; }
  troot=$(podman image mount "$test_image")
  prepare_root "$troot"
  # Tests read the shared datasets as ../shared from /app.
  if [ -d ../shared ]; then mount --bind -o ro "$(cd ../shared && pwd)" "$troot/shared" && mounts+=("$troot/shared"); fi
  bash scripts/ensure-postgres.sh >/dev/null 2>&1 || echo "(PostgreSQL not started: its tests may fail)"
  step "in image: pytest $PYTEST_ARGS"
  # shellcheck disable=SC2086  # PYTEST_ARGS is a word list on purpose
  in_image "$troot" /usr/bin/env -C /app nice -n 10 pytest $PYTEST_ARGS
fi
step "container checks passed in $((SECONDS - started)) s"
