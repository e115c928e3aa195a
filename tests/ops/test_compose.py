"""docker-compose.yml, .env.example and the Dockerfile, checked by structure (Docker does not run
here): the services, health-gated start order, pinned images, named volumes, and that every
environment name given to crisisflow's containers is a setting the app reads."""

import re
from pathlib import Path

import pytest
import yaml

from settings import Settings
from store import migrate
from store.db import create_engine
from tests.conftest import PROJECT
from workflows.search_attributes import ALL

COMPOSE = yaml.safe_load((PROJECT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = {"migrate", "api", "worker"}
SETTINGS = {field.alias for field in Settings.model_fields.values()}
# What the infrastructure images read, as their documentation names it.
IMAGE_VARIABLES = {
    "postgres": {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "PGDATA", "POSTGRES_INITDB_ARGS"},
    "temporalio/server": {
        "DB",
        "DB_PORT",
        "POSTGRES_USER",
        "POSTGRES_PWD",
        "POSTGRES_SEEDS",
        "DBNAME",
        "VISIBILITY_DBNAME",
        "BIND_ON_IP",
        "NUM_HISTORY_SHARDS",
        "DYNAMIC_CONFIG_FILE_PATH",
        "LOG_LEVEL",
        "SERVICES",
    },
    "temporalio/admin-tools": {"SQL_PASSWORD", "SQL_USER", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"},
    "temporalio/ui": {
        "TEMPORAL_ADDRESS",
        "TEMPORAL_CORS_ORIGINS",
        "TEMPORAL_UI_PORT",
        "TEMPORAL_DEFAULT_NAMESPACE",
        "TEMPORAL_DISABLE_WRITE_ACTIONS",
        *(
            f"TEMPORAL_AUTH_{name}"
            for name in ("ENABLED", "TYPE", "PROVIDER_URL", "ISSUER_URL", "CLIENT_ID", "CLIENT_SECRET", "CALLBACK_URL", "SCOPES")
        ),
    },
}


def image_name(service: dict) -> str:
    return service["image"].rsplit(":", 1)[0]


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def test_the_services_of_a_production_stack():
    assert {"postgresql", "temporal-schema", "temporal", "temporal-init", "temporal-ui", "migrate", "api", "worker"} <= set(
        SERVICES
    )
    assert image_name(SERVICES["postgresql"]) == "postgres"
    assert image_name(SERVICES["temporal"]) == "temporalio/server"
    assert image_name(SERVICES["temporal-ui"]) == "temporalio/ui"
    for name in APP_SERVICES:
        assert SERVICES[name]["build"] == ".", name
    assert SERVICES["api"]["command"] == ["api"] and SERVICES["worker"]["command"] == ["worker"]
    assert SERVICES["migrate"]["command"] == ["db", "upgrade"]


def test_every_dependency_waits_for_health_or_a_finished_step():
    depended_on = {}
    for name, service in SERVICES.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on must name a condition for each service"
        for target, rule in depends.items():
            assert target in SERVICES, f"{name} depends on unknown {target}"
            assert rule.get("condition") in ("service_healthy", "service_completed_successfully"), f"{name} → {target}: {rule}"
            depended_on.setdefault(target, set()).add(rule["condition"])
    for target, conditions in depended_on.items():
        if "service_healthy" in conditions:
            check = SERVICES[target].get("healthcheck")
            assert check and check.get("test") and not check.get("disable"), f"{target} has dependants but no healthcheck"
        if "service_completed_successfully" in conditions:
            assert SERVICES[target].get("restart", "no") in ("no", "on-failure") or SERVICES[target]["restart"].startswith(
                "on-failure"
            ), target
    # the application starts only after the schema step, the search attributes and (through them) Temporal
    for name in ("api", "worker"):
        assert SERVICES[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"},
            "temporal-init": {"condition": "service_completed_successfully"},
        }
    assert SERVICES["migrate"]["depends_on"] == {"postgresql": {"condition": "service_healthy"}}
    assert SERVICES["temporal-init"]["depends_on"] == {"temporal": {"condition": "service_healthy"}}
    assert SERVICES["temporal"]["depends_on"] == {"temporal-schema": {"condition": "service_completed_successfully"}}


def test_long_running_services_have_healthchecks():
    for name in ("postgresql", "temporal", "api", "worker"):
        assert SERVICES[name]["healthcheck"]["test"], name
    assert "/readyz" in " ".join(SERVICES["api"]["healthcheck"]["test"])
    assert "/metrics" in " ".join(SERVICES["worker"]["healthcheck"]["test"])


def test_images_are_pinned_to_versions():
    for name, service in SERVICES.items():
        image = service.get("image")
        assert image, f"{name} has no image"
        assert "$" not in image, f"{name}: pin the version in the file, not in a variable"
        repository, _, tag = image.partition(":")
        assert tag and tag != "latest" and re.match(r"\d+\.\d+(\.\d+)?", tag), f"{name}: {image} is not pinned to a version"


def test_data_lives_in_named_volumes():
    named = set(COMPOSE.get("volumes") or {})
    assert "postgres-data" in named
    assert "postgres-data:/var/lib/postgresql/data" in SERVICES["postgresql"]["volumes"]
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume["source"]
            assert source in named, f"{name}: {volume} is not a named volume"


def test_crisisflow_containers_set_only_settings_the_app_reads():
    for name in APP_SERVICES:
        unknown = set(environment(SERVICES[name])) - SETTINGS
        assert not unknown, f"{name} sets {sorted(unknown)}, which crisisflow does not read"
    assert environment(SERVICES["api"])["CRISIS_API_HOST"] == "0.0.0.0"
    assert environment(SERVICES["worker"])["CRISIS_WORKER_METRICS_BIND"].endswith(":9464")
    for name in APP_SERVICES:
        env = environment(SERVICES[name])
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://crisis:${CRISIS_DB_PASSWORD")
        assert env["CRISIS_TEMPORAL_ADDRESS"] == "temporal:7233" and env["CRISIS_LOG_FORMAT"] == "json"


def test_infrastructure_containers_set_only_their_images_variables():
    for name, service in SERVICES.items():
        if name in APP_SERVICES:
            continue
        allowed = IMAGE_VARIABLES[image_name(service)]
        unknown = set(environment(service)) - allowed
        assert not unknown, f"{name} sets {sorted(unknown)}, not variables of {image_name(service)}"


def test_every_interpolated_variable_is_in_env_example():
    text = (PROJECT / "docker-compose.yml").read_text()
    referenced = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", text))
    example = dict(
        line.split("=", 1) for line in (PROJECT / ".env.example").read_text().splitlines() if line and not line.startswith("#")
    )
    assert referenced and referenced <= set(example), sorted(referenced - set(example))
    assert {"POSTGRES_PASSWORD", "CRISIS_DB_PASSWORD"} <= set(example)
    crisis_settings = {name for name in example if not name.startswith("POSTGRES_") and name != "CRISIS_DB_PASSWORD"}
    assert crisis_settings <= SETTINGS, sorted(crisis_settings - SETTINGS)


def test_the_init_step_creates_every_search_attribute_the_workflows_use():
    script = SERVICES["temporal-init"]["command"][0]
    for key in ALL:
        kind = "Bool" if key.indexed_value_type.name == "BOOL" else "Keyword"
        assert f"{key.name}:{kind}" in script


def test_the_image_is_slim_and_runs_as_a_user():
    dockerfile = (PROJECT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert stages and all(stage == "python:3.11-slim" or stage.startswith("python:3.11-slim") for stage in stages)
    final = dockerfile.rsplit("\nFROM ", 1)[1]
    users = re.findall(r"^USER (\S+)", final, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r'^ENTRYPOINT \["crisis"\]', final, re.M)
    env_names = set(re.findall(r"\b([A-Z][A-Z0-9_]+)=", " ".join(re.findall(r"^ENV (.+(?:\\\n.+)*)", final, re.M))))
    assert env_names - {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"} <= SETTINGS
    ignored = (PROJECT / ".dockerignore").read_text().split()
    assert {".env", ".venv", "var", "tests"} <= set(ignored)


async def test_the_database_init_script_makes_a_database_the_migrations_run_on(postgres):
    """The SQL compose runs at PostgreSQL's first start, then `crisis db upgrade` as the role it
    creates. (The test server's superuser is already called crisis: the role is renamed here.)"""
    import asyncpg

    sql = COMPOSE["configs"]["crisisflow-database"]["content"]
    assert "${CRISIS_DB_PASSWORD}" in sql
    sql = (
        sql.replace("${CRISIS_DB_PASSWORD}", "pw_from_env")
        .replace("ROLE crisis ", "ROLE crisis_app ")
        .replace("OWNER crisis;", "OWNER crisis_app;")
    )
    connection = await asyncpg.connect(host="127.0.0.1", port=postgres.port, user="crisis", database="postgres")
    try:
        for statement in filter(str.strip, sql.split(";")):
            await connection.execute(statement)
    finally:
        await connection.close()
    engine = create_engine(f"postgresql+asyncpg://crisis_app:pw_from_env@127.0.0.1:{postgres.port}/crisisflow")
    try:
        await migrate.upgrade(engine)
        assert await migrate.check_schema(engine) == migrate.head_revision()
    finally:
        await engine.dispose()


@pytest.mark.parametrize("name", ["temporal-schema", "temporal-init"])
def test_one_shot_scripts_stop_at_the_first_error(name):
    script = SERVICES[name]["command"][0]
    assert script.lstrip().startswith("set -eu")
    assert SERVICES[name]["entrypoint"] == ["/bin/sh", "-c"]


def test_the_dockerfile_copies_every_package():
    dockerfile = (PROJECT / "Dockerfile").read_text()
    import tomllib

    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["setuptools"]
    for package in {name.split(".")[0] for name in project["packages"]}:
        assert re.search(rf"^COPY {package} {package}$", dockerfile, re.M), package
    for module in project["py-modules"]:
        assert f"{module}.py" in dockerfile
    assert Path(PROJECT / "playbooks").is_dir() and "COPY playbooks /app/playbooks" in dockerfile


def _published_on(port: str) -> str:
    """The host interface of a ``ports`` entry: ``127.0.0.1:8080:8080`` → 127.0.0.1, ``8080:8080`` → all."""
    parts = port.split(":")
    return parts[0] if len(parts) == 3 else "all interfaces"


def test_the_temporal_ui_is_read_only_and_it_and_the_frontend_listen_on_this_host_only():
    """#16.2: the UI took an Update that forged an acknowledgement, from anyone on the network."""
    ui = SERVICES["temporal-ui"]
    assert environment(ui)["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true"
    assert environment(ui).get("TEMPORAL_AUTH_ENABLED", "false") == "false"  # without sign-in…
    for name in ("temporal-ui", "temporal"):  # …neither is published beyond this host
        ports = SERVICES[name].get("ports", [])
        assert ports, name
        for port in ports:
            assert _published_on(port) == "127.0.0.1", f"{name} publishes {port} on {_published_on(port)}"
    for name, service in SERVICES.items():
        if name not in ("api", "temporal-ui", "temporal"):
            assert not service.get("ports"), f"{name} publishes {service['ports']}"


def test_the_documented_oidc_override_signs_people_in_before_it_opens_the_ui():
    """docs/operations.md's docker-compose.override.yml: the only documented way to publish the UI
    beyond this host turns OIDC sign-in on and keeps write actions off."""
    text = (PROJECT / "docs" / "operations.md").read_text()
    block = re.search(r"```yaml\n(# docker-compose\.override\.yml.*?)```", text, re.S)
    assert block, "the OIDC override example is missing from docs/operations.md"

    class OverrideLoader(yaml.SafeLoader):
        pass

    OverrideLoader.add_constructor("!override", lambda loader, node: loader.construct_sequence(node))
    override = yaml.load(block.group(1), Loader=OverrideLoader)["services"]["temporal-ui"]
    env = environment(override)
    assert env["TEMPORAL_AUTH_ENABLED"] == "true" and env["TEMPORAL_AUTH_TYPE"] == "oidc"
    assert env["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true"
    assert set(env) <= IMAGE_VARIABLES["temporalio/ui"], sorted(set(env) - IMAGE_VARIABLES["temporalio/ui"])
    assert env["TEMPORAL_AUTH_CALLBACK_URL"].endswith("/auth/sso/callback")
    assert [_published_on(port) for port in override["ports"]] == ["all interfaces"]
