"""deploy/images/: what can be checked without building (no image registry and no build here).

The Dockerfiles install exactly requirements.lock as `make install` does, the learners' image
is built from a context without the exam course and keeps no layer of the checkout, and the
services' image gives the exam source to the grader's uid alone."""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from pathlib import Path

import yaml

from kynangso.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "deploy" / "images"
DOCKERFILES = ("singleuser.Dockerfile", "services.Dockerfile")


def instructions(name: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (IMAGES / name).read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages(name: str) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for step in instructions(name):
        if step[0] == "FROM":
            result.append([])
        result[-1].append(step)
    return result


def pip_installs(name: str) -> list[str]:
    return [cmd.strip() for word, args in instructions(name) if word == "RUN"
            for cmd in re.split(r"&&|\|\|", args) if "pip\" install" in cmd or "pip install" in cmd]


def test_images_install_exactly_the_frozen_list():
    """Does each image install requirements.lock with --no-deps, leave out what `make install`
    leaves out, run pip check, and install nothing else but the project itself (no deps)?"""
    left_out = re.search(r"^LEFT_OUT := (.+)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    for name in DOCKERFILES:
        copies = [args for word, args in instructions(name) if word == "COPY" and "requirements.lock" in args]
        assert copies == ["requirements.lock /tmp/requirements.lock"], name
        installs = pip_installs(name)
        assert installs == ['"$VENV/bin/pip" install --no-cache-dir --no-deps -r /tmp/requirements.lock',
                            '"$VENV/bin/pip" install --no-cache-dir --no-deps /src'], name
        run = " ".join(args for word, args in instructions(name) if word == "RUN")
        assert f'"$VENV/bin/pip" uninstall -y {" ".join(left_out)}' in run and '"$VENV/bin/pip" check' in run


def test_images_use_the_projects_python():
    """Is the base image's Python the one pyproject and environment.yml require?"""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"] and requires == ">=3.11,<3.12"
    for name in DOCKERFILES:
        bases = {args.split()[0] for word, args in instructions(name) if word == "FROM"}
        assert bases == {"python:3.11-slim-bookworm"}, name


def _regex(pattern: str) -> re.Pattern:
    """A .dockerignore pattern (Go filepath.Match, plus `**` for any number of folders)."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def build_context(ignore_file: Path) -> set[str]:
    """The files docker would send for a build from the checkout's root: a path is left out
    when the last pattern matching it or a folder above it is not an exception (`!`)."""
    rules = []
    for line in ignore_file.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            negate = line.startswith("!")
            rules.append((negate, _regex(os.path.normpath(line.lstrip("!").lstrip("/")))))
    sent = set()
    for folder, dirs, files in os.walk(ROOT):
        rel_dir = os.path.relpath(folder, ROOT)
        for name in files:
            path = os.path.normpath(os.path.join(rel_dir, name))
            parts = path.split("/")
            candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
            excluded = False
            for negate, regex in rules:
                if any(regex.match(c) for c in candidates):
                    excluded = not negate
            if not excluded:
                sent.add(path)
        dirs[:] = [d for d in dirs if d not in (".git", "node_modules")]
    return sent


def test_learners_image_context_has_no_exam_course():
    """Does the learners' build context leave out assessments/exams (hidden tests, answer keys)
    and keep everything the image installs?"""
    sent = build_context(IMAGES / "singleuser.Dockerfile.dockerignore")
    assert not [p for p in sent if p.startswith("assessments/exams/")]
    assert "assessments/exams/README.md" not in sent
    for needed in ("requirements.lock", "pyproject.toml", "kynangso/settings.py",
                   "assessments/grading/__init__.py", "courses/__init__.py"):
        assert needed in sent, needed
    # the services' context keeps the exam course: its image holds it for the grader
    services = build_context(IMAGES / "services.Dockerfile.dockerignore")
    assert any(p.startswith("assessments/exams/source/") for p in services)


def test_context_rules_are_those_docker_applies():
    """Does the matcher above follow docker's rules (a folder pattern takes its files, the
    last match wins, `**` spans folders)?"""
    patterns = [(False, _regex("assessments/exams")), (True, _regex("**/keep.md"))]

    def out(path):
        parts = path.split("/")
        excluded = False
        for negate, regex in patterns:
            if any(regex.match("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
                excluded = not negate
        return excluded
    assert out("assessments/exams/source/a.ipynb") and not out("assessments/exams2/a.py")
    assert not out("assessments/exams/keep.md") and not out("assessments/grading/x.py")


def test_learners_image_keeps_no_layer_of_the_checkout():
    """Does the learners' final image take only the built environment from the build stage, so
    that no layer holds the checkout (whatever the context held)?"""
    final = stages("singleuser.Dockerfile")[-1]
    copies = [shlex.split(args) for word, args in final if word == "COPY"]
    assert copies and all(c[0].startswith("--from=") for c in copies)


def test_services_image_gives_the_exam_source_to_the_grader_alone():
    """Is the exam source in the services' image owned by the grader's uid with mode 0700, where
    the settings' exams.course_source points, and is every uid the Deployments run as an account
    of the image?"""
    final = stages("services.Dockerfile")[-1]
    [exam_copy] = [shlex.split(args) for word, args in final if word == "COPY" and "assessments/exams" in args]
    assert "--chown=1100:1100" in exam_copy and "--chmod=0700" in exam_copy
    settings = load_settings(ROOT / "deploy" / "kubernetes" / "settings.yaml")
    assert exam_copy[-1] == settings["exams"]["course_source"]
    run = " ".join(args for word, args in final if word == "RUN")
    accounts = {int(uid) for uid in re.findall(r"useradd --uid (\d+)", run)}
    uids = {}
    for path in sorted((ROOT / "deploy" / "kubernetes" / "services").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["kind"] == "Deployment":
                [container] = doc["spec"]["template"]["spec"]["containers"]
                uids[doc["metadata"]["name"]] = container["securityContext"]["runAsUser"]
    assert set(uids.values()) <= accounts
    assert {name for name, uid in uids.items() if uid == 1100} == {"kns-exams-worker", "kns-formgrader"}
