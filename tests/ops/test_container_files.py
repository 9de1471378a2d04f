"""Static checks of the container set-up: Dockerfile, docker-compose.yml, .env.example.

Cheap guards against the mistakes that break deployments silently (root user, no
healthcheck, API starting before the database, an undocumented setting). The real proof is
scripts/check-containers.sh: a podman build plus the CLI and the tests inside the image.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from app.config import Settings

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"

pytestmark = pytest.mark.skipif(
    not DOCKERFILE.is_file(), reason="needs the repository checkout (not the installed package)"
)


# ---------------------------------------------------------------------------- Dockerfile


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)  # (KEYWORD, arguments)


def parse_dockerfile(text: str) -> list[Stage]:
    """Stages with their instructions; line continuations joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = arguments.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif stages:
            stages[-1].instructions.append((keyword, arguments.strip()))
    return stages


def effective(stages: list[Stage], target: str | None, keyword: str) -> str | None:
    """The last `keyword` value that applies to `target` (default: the last stage),
    following `FROM <earlier stage>` the way image config is inherited."""
    by_name = {s.name: s for s in stages if s.name}
    stage = by_name[target] if target else stages[-1]
    chain = [stage]
    while chain[-1].base in by_name:
        chain.append(by_name[chain[-1].base])
    for current in chain:
        values = [args for kw, args in current.instructions if kw == keyword]
        if values:
            return values[-1]
    return None


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text())


def test_default_target_is_the_cpu_image_on_the_slim_base(stages: list[Stage]) -> None:
    names = {s.name for s in stages}
    assert {"build", "runtime", "gpu", "test", "cpu"} <= names
    assert stages[-1].base == "runtime", "the last stage (docker build's default) must be CPU"
    runtime = next(s for s in stages if s.name == "runtime")
    assert runtime.base == "${PYTHON_IMAGE}"
    assert re.search(r"ARG PYTHON_IMAGE=python:3\.11-slim", DOCKERFILE.read_text())
    gpu = next(s for s in stages if s.name == "gpu")
    assert "CUDA" in gpu.base


@pytest.mark.parametrize("target", [None, "cpu", "gpu"])
def test_runtime_images_run_as_a_non_root_user(stages: list[Stage], target: str | None) -> None:
    user = effective(stages, target, "USER")
    assert user is not None and user.split(":")[0] not in ("root", "0")


@pytest.mark.parametrize("target", [None, "gpu"])
def test_runtime_images_check_readyz_and_serve_on_all_interfaces(
    stages: list[Stage], target: str | None
) -> None:
    healthcheck = effective(stages, target, "HEALTHCHECK") or ""
    assert "/readyz" in healthcheck and "urllib" in healthcheck  # no curl in a slim image
    assert "--start-period" in healthcheck  # the first start trains a model
    entrypoint = effective(stages, target, "ENTRYPOINT")
    command = effective(stages, target, "CMD")
    assert entrypoint == '["samesay"]'
    assert command == '["serve", "--host", "0.0.0.0", "--port", "8000"]'
    assert '["/data"]' == effective(stages, target, "VOLUME")


def test_cpu_torch_is_pinned_and_installed_before_the_project(stages: list[Stage]) -> None:
    build = next(s for s in stages if s.name == "build")
    runs = [args for kw, args in build.instructions if kw == "RUN"]
    torch_step = next(i for i, r in enumerate(runs) if "torch==${TORCH_VERSION}" in r)
    project_step = next(i for i, r in enumerate(runs) if re.search(r"pip install \"\.\[", r))
    assert torch_step < project_step
    assert "/opt/wheels" in runs[torch_step] and "${TORCH_INDEX_URL}" in runs[torch_step]
    args = dict(a.partition("=")[::2] for kw, a in build.instructions if kw == "ARG")
    assert args["TORCH_VERSION"] == "2.13.0"
    assert args["TORCH_INDEX_URL"].endswith("/whl/cpu")


def test_parser_follows_stage_inheritance() -> None:
    stages = parse_dockerfile(
        'FROM a AS base\nUSER app\nCMD ["x"]\n# note\nFROM base AS child\nRUN echo \\\n  hi\n'
    )
    assert effective(stages, None, "USER") == "app"
    assert stages[1].instructions == [("RUN", "echo  hi")]
    assert effective(stages, "base", "RUN") is None


# ------------------------------------------------------------------------- docker compose


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_has_the_services_and_profiles(compose: dict) -> None:
    services = compose["services"]
    assert {"api", "postgres", "trainer", "proxy"} <= set(services)
    assert "profiles" not in services["api"] and "profiles" not in services["postgres"]
    assert services["trainer"]["profiles"] == ["train"]
    assert services["proxy"]["profiles"] == ["proxy"]
    assert services["trainer"]["entrypoint"] == ["/bin/sh", "-c"]
    trainer_script = services["trainer"]["command"][0]
    assert "samesay export " in trainer_script and "samesay train --data " in trainer_script


def test_postgres_is_healthchecked_and_persistent(compose: dict) -> None:
    postgres = compose["services"]["postgres"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    volume = postgres["volumes"][0].split(":")
    assert volume[1] == "/var/lib/postgresql/data" and volume[0] in compose["volumes"]
    # A missing password must stop compose, not start a database with a default one.
    assert ":?" in postgres["environment"]["POSTGRES_PASSWORD"]


@pytest.mark.parametrize("service", ["api", "trainer"])
def test_api_and_trainer_wait_for_a_healthy_database(compose: dict, service: str) -> None:
    spec = compose["services"][service]
    assert spec["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert spec["environment"]["SAMESAY_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert spec["environment"]["SAMESAY_DATA_DIR"] == "/data"
    assert any(v.endswith(":/data") for v in spec["volumes"])
    assert ".env" in spec["env_file"]


def test_api_can_be_scaled_behind_the_proxy(compose: dict) -> None:
    api = compose["services"]["api"]
    assert "container_name" not in api  # --scale needs generated names
    assert "readyz" in " ".join(api["healthcheck"]["test"])
    # A host port range: each replica gets its own port instead of a clash.
    assert re.search(r"\d+-\d+}?:8000$", api["ports"][0])
    proxy = compose["services"]["proxy"]
    assert proxy["depends_on"]["api"]["condition"] == "service_healthy"
    config_mount = next(v for v in proxy["volumes"] if "nginx" in v)
    config_path = REPO / config_mount.split(":")[0]
    nginx = config_path.read_text()
    # Re-resolving `api` (all replicas) needs Docker's resolver and a variable upstream.
    assert "resolver 127.0.0.11" in nginx
    assert re.search(r"set \$(\w+) http://api:8000;\s+proxy_pass \$\1;", nginx)


# --------------------------------------------------------------------------- .env.example


def test_env_example_documents_every_setting() -> None:
    text = ENV_EXAMPLE.read_text()
    documented = set(re.findall(r"^#? ?(SAMESAY_[A-Z0-9_]+)=", text, flags=re.MULTILINE))
    prefix = Settings.model_config["env_prefix"]
    expected = {f"{prefix}{name}".upper() for name in Settings.model_fields}
    assert expected - documented == set(), "add these settings to .env.example"
    assert documented - expected - {"SAMESAY_ENV_FILE"} <= {
        "SAMESAY_BUILD_TARGET", "SAMESAY_IMAGE", "SAMESAY_BIND", "SAMESAY_HOST_PORTS",
        "SAMESAY_PROXY_PORT",
    }, "a SAMESAY_ variable that no setting or compose option reads"  # fmt: skip


def test_env_example_sets_what_compose_requires() -> None:
    assignments = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    )
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    assert required <= set(assignments)
    assert all(assignments[name] for name in required)
    assert shlex.split(assignments["SAMESAY_API_KEYS"])  # one key at least
