"""The production set-up (docker-compose.yml, Dockerfile) agrees with the settings and README.

Each test compares two sides that are edited separately: change one without the other and a
test here fails. Nothing is started; the files are only read.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "beat")
REQUIRED_SECRETS = (
    "DJANGO_SECRET_KEY",
    "PERSONNUMMER_KEYS",
    "PERSONNUMMER_HASH_KEY",
)
INTERPOLATION = re.compile(r"\$\{[^}]*\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def _table(readme: str, marker: str) -> list[list[str]]:
    """The rows (cells stripped) of the markdown table between <!-- marker:start/end -->."""
    match = re.search(
        rf"<!-- {marker}:start -->\n(.*?)\n<!-- {marker}:end -->", readme, flags=re.DOTALL
    )
    assert match, f"README.md has no <!-- {marker}:start --> ... <!-- {marker}:end --> table"
    rows = []
    for line in match.group(1).strip().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if all(set(cell) <= set("-: ") for cell in cells):
            continue  # the |---|---| separator
        rows.append(cells)
    return rows[1:]  # without the header row


def _code(cell: str) -> str | None:
    """The text of a cell that is one `code span`, else None."""
    match = re.fullmatch(r"`([^`]+)`", cell)
    return match.group(1) if match else None


def readme_service_commands(readme: str) -> dict[str, str | None]:
    commands = {}
    for row in _table(readme, "compose-services"):
        service = _code(row[0])
        assert service, f"service names are code spans in the README table: {row}"
        commands[service] = _code(row[1])
    return commands


def readme_config_variables(readme: str) -> set[str]:
    names = set()
    for row in _table(readme, "configuration"):
        name = _code(row[0])
        assert name, f"variable names are code spans in the README table: {row}"
        names.add(name)
    return names


def settings_variables() -> set[str]:
    """Every environment variable sst/settings.py reads (env.*("NAME"), os.environ...)."""
    tree = ast.parse((ROOT / "sst" / "settings.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            func = ast.unparse(node.func)
            if func == "env" or func.startswith("env.") or func in {"os.getenv", "os.environ.get"}:
                names.add(first.value)
        elif (
            isinstance(node, ast.Subscript)
            and ast.unparse(node.value) == "os.environ"
            and isinstance(node.slice, ast.Constant)
        ):
            names.add(node.slice.value)
    return names


def command_words(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


def service_environment(service: dict) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def test_settings_variables_are_found() -> None:
    # Guard against the parser silently finding nothing.
    assert {"DATABASE_URL", "DJANGO_SECRET_KEY", "CELERY_BROKER_URL"} <= settings_variables()


def test_compose_has_the_documented_services(compose: dict, readme: str) -> None:
    services = set(compose["services"])
    assert {"web", "worker", "beat", "postgres", "redis"} <= services
    assert services == set(readme_service_commands(readme))


@pytest.mark.parametrize("name", [*APP_SERVICES, "migrate"])
def test_app_commands_are_the_documented_ones(compose: dict, readme: str, name: str) -> None:
    documented = readme_service_commands(readme)[name]
    assert documented, f"README documents no command for {name}"
    assert command_words(compose["services"][name]["command"]) == shlex.split(documented)


def test_image_default_command_is_the_web_command(readme: str) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    match = re.search(r"^CMD (\[.*\])$", dockerfile, flags=re.MULTILINE)
    assert match, "the Dockerfile has a CMD in exec (JSON) form"
    assert json.loads(match.group(1)) == shlex.split(readme_service_commands(readme)["web"])


def test_readme_documents_every_setting(readme: str) -> None:
    assert readme_config_variables(readme) == settings_variables()


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_environment_is_read_and_documented(compose: dict, readme: str, name: str) -> None:
    names = set(service_environment(compose["services"][name]))
    assert names, f"{name} has no environment"
    assert names <= settings_variables(), "compose sets variables sst/settings.py never reads"
    assert names <= readme_config_variables(readme)


@pytest.mark.parametrize("name", [*APP_SERVICES, "migrate"])
def test_app_services_run_production_with_secrets_from_outside(compose: dict, name: str) -> None:
    environment = service_environment(compose["services"][name])
    assert environment["SST_ENVIRONMENT"] == "production"
    for secret in (*REQUIRED_SECRETS, "DJANGO_ALLOWED_HOSTS"):
        # ${NAME:?message}: taken from .env or the shell, and compose refuses to start without it.
        assert re.fullmatch(rf"\$\{{{secret}:\?[^}}]*\}}", environment[secret]), secret


@pytest.mark.parametrize("name", [*APP_SERVICES, "migrate"])
def test_database_and_broker_are_the_compose_services(compose: dict, name: str) -> None:
    environment = service_environment(compose["services"][name])
    database = urlsplit(INTERPOLATION.sub("secret", environment["DATABASE_URL"]))
    broker = urlsplit(environment["CELERY_BROKER_URL"])
    cache = urlsplit(environment["CACHE_URL"])
    assert database.scheme in {"postgres", "postgresql"}
    assert database.hostname == "postgres"
    assert broker.scheme == cache.scheme == "redis"
    assert broker.hostname == cache.hostname == "redis"
    assert broker.path != cache.path, "broker and cache share a Redis database"
    postgres = service_environment(compose["services"]["postgres"])
    assert database.username == postgres["POSTGRES_USER"]
    assert database.path.lstrip("/") == postgres["POSTGRES_DB"]
    assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]
    assert postgres["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


@pytest.mark.parametrize("setting", ["IMPORT_UPLOAD_DIR", "PRIVATE_FILES_DIR"])
def test_web_and_worker_share_the_file_directories(compose: dict, setting: str) -> None:
    """web stores an uploaded import file and worker reads it; worker makes a term-report PDF
    and web hands it out: the same named volume, where the settings look for it."""
    mounts = {}
    for name in ("web", "worker"):
        service = compose["services"][name]
        folder = service_environment(service)[setting]
        volumes = [v for v in service.get("volumes", []) if v.split(":")[1] == folder]
        assert volumes, f"{name} has no volume at {setting} ({folder})"
        mounts[name] = volumes[0].split(":")[0]
    assert mounts["web"] == mounts["worker"]
    assert mounts["web"] in compose["volumes"], "a named volume, not a host folder"


def test_operations_lists_every_scheduled_task() -> None:
    from sst.celery import app

    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    operations = (ROOT / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    documented = {_code(row[0]) for row in _table(operations, "beat-schedule")}
    assert documented == scheduled


def test_app_services_wait_for_migrations(compose: dict) -> None:
    for name in ("web", "worker"):
        depends_on = compose["services"][name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    assert compose["services"]["migrate"]["depends_on"]["postgres"]["condition"] == (
        "service_healthy"
    )


def test_dockerfile_installs_pango_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim-bookworm$", dockerfile, flags=re.MULTILINE)
    installs = " ".join(re.findall(r"apt-get install[^&]*", dockerfile.replace("\\\n", " ")))
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0"):
        assert package in installs.split()
    users = re.findall(r"^USER (\S+)$", dockerfile, flags=re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
