"""docker/: the compose file against the Compose Specification's JSON schema, and the runner
Dockerfile through a small parser and linter (no Docker engine runs here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from dockerfile_lint import lint, parse

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker" / "compose.yaml"
DOCKERFILE = ROOT / "docker" / "runner.Dockerfile"
SCHEMA = ROOT / "tests" / "data" / "compose" / "compose-spec.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))


@pytest.fixture
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _errors(validator: jsonschema.Draft7Validator, doc: dict[str, Any]) -> list[str]:
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(doc)]


def test_compose_matches_the_compose_spec(validator: jsonschema.Draft7Validator,
                                          compose: dict[str, Any]) -> None:
    assert _errors(validator, compose) == []


@pytest.mark.parametrize("breakage", [
    lambda d: d["services"]["recorder"].update(restart_policy="always"),  # not a compose key
    lambda d: d["services"]["runner"].update(cap_add="SYS_PTRACE"),  # must be a list
    lambda d: d["services"]["dashboard"].update(ports=[{"target": "8080"}]),  # int expected
    lambda d: d.update(services={"bad name!": {"image": "x"}}),
])
def test_the_schema_rejects_broken_files(validator: jsonschema.Draft7Validator,
                                         compose: dict[str, Any], breakage: Any) -> None:
    breakage(compose)
    assert _errors(validator, compose)


def test_compose_services_and_wiring(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"cameras", "recorder", "runner", "dashboard"} <= set(services)
    assert "SYS_PTRACE" in services["runner"]["cap_add"]  # py-spy attaches with ptrace
    assert services["runner"]["pid"] == "service:recorder"
    for name, svc in services.items():
        for dep in svc.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown {dep}"
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
        build = svc.get("build")
        if build:
            assert (COMPOSE.parent / build["context"] / build["dockerfile"]).is_file()
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE.parent / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in compose["volumes"], f"{name} uses undeclared volume {source}"


def test_compose_recorder_config_names_the_cameras(compose: dict[str, Any]) -> None:
    import tomllib

    config = tomllib.loads((COMPOSE.parent / "recorder.toml").read_text())
    urls = [s["url"] for s in config["streams"]]
    assert urls == [f"rtsp://cameras:8554/cam{i}" for i in range(4)]
    assert "--count" in compose["services"]["cameras"]["command"]


def test_dockerfile_lints_clean() -> None:
    assert lint(DOCKERFILE.read_text(), ROOT) == []
    text = DOCKERFILE.read_text()
    assert "SYS_PTRACE" in text  # the ptrace note for py-spy
    assert parse(text)[0].keyword == "FROM"


@pytest.mark.parametrize(("dockerfile", "problem"), [
    ("FROM python\nCMD [\"x\"]\n", "not pinned"),
    ("FROM python:latest\nCMD [\"x\"]\n", "not pinned"),
    ("RUN true\nFROM python:3.11\nCMD [\"x\"]\n", "must be FROM"),
    ("FROM python:3.11\nRUN apt-get update && apt-get install -y x\nCMD [\"x\"]\n",
     "--no-install-recommends"),
    ("FROM python:3.11\nCOPY no-such-dir /x\nCMD [\"x\"]\n", "not in the build context"),
    ("FROM python:3.11\nCMD perfwatch --help\n", "exec (JSON) form"),
    ("FROM python:3.11\nFROBNICATE x\nCMD [\"x\"]\n", "unknown instruction"),
    ("FROM python:3.11\nRUN true\n", "no CMD"),
])
def test_dockerfile_lint_finds_problems(dockerfile: str, problem: str) -> None:
    assert any(problem in p for p in lint(dockerfile, ROOT))


def test_parser_joins_continuations_and_skips_comments() -> None:
    ins = parse("# c\nFROM a:1\nRUN echo 1 \\\n  # inner\n  && echo 2\nCMD [\"x\"]\n")
    assert [(i.line, i.keyword) for i in ins] == [(2, "FROM"), (3, "RUN"), (6, "CMD")]
    assert ins[1].args == "echo 1 && echo 2"
