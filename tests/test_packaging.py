"""Packaging contract: pyproject.toml, environment.yml and requirements.lock agree."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_deps() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return set(project["dependencies"]) | set(project["optional-dependencies"]["test"])


def _environment_pip_deps() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d for d in env["dependencies"] if isinstance(d, dict))
    return set(pip_section["pip"])


def test_environment_yml_matches_pyproject():
    """Does environment.yml list exactly the packages and pins of pyproject.toml?"""
    missing = _pyproject_deps() - _environment_pip_deps()
    extra = _environment_pip_deps() - _pyproject_deps()
    assert not missing and not extra, f"only in pyproject: {missing}; only in environment.yml: {extra}"


def test_lock_satisfies_every_pin():
    """Does requirements.lock freeze each pinned package at the pinned version?"""
    lock = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line:
            name, version = line.split("==", 1)
            lock[name.lower().replace("_", "-")] = version.strip()
    for dep in _pyproject_deps():
        name, version = dep.split("==")
        assert lock.get(name.lower().replace("_", "-")) == version, f"{dep} not frozen in requirements.lock"


def test_jsonschema_loads_no_iri_parser():
    """Is rfc3987-syntax left out (Makefile LEFT_OUT), so that importing jsonschema, which every
    service, server and grader does, builds no Earley parser (1.4 s of CPU each)?"""
    import subprocess
    import sys

    lock = (ROOT / "requirements.lock").read_text().lower()
    assert "rfc3987-syntax==" not in lock and "\nlark==" not in lock
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, jsonschema, kynangso.settings; "
         "print(sorted(m for m in sys.modules if m.split('.')[0] in ('lark', 'rfc3987_syntax')))"],
        capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
