"""Our z2jh values as helm sees them: layered over the chart's defaults (vendored with its
schema in deploy/kubernetes/schema/), for the tests of deploy/kubernetes/ and of the hub
configuration under the chart."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kubernetes"
SCHEMA = DEPLOY / "schema"
DEPLOY_SETTINGS = DEPLOY / "settings.yaml"
PROFILES = {"ordinary day": ("values.yaml",), "exam day": ("values.yaml", "values-examday.yaml")}


def load(path: Path):
    return copy.deepcopy(parsed(path))


@functools.cache
def parsed(path: Path):  # the chart's schema and defaults are 0.3 s of YAML each
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def helm_merge(base: dict, override: dict) -> dict:
    """Values layered the way helm does: maps merge key by key, other values replace, and a
    null deletes the key (the chart's default with it)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = helm_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def values(*files: str) -> dict:
    """The values helm validates against the chart's schema and renders with."""
    merged = load(SCHEMA / "chart-values.yaml")
    for name in files:
        merged = helm_merge(merged, load(DEPLOY / name))
    return merged


def secret_values(*files: str) -> dict:
    """The values as the chart's Secret `hub` holds them for its hub configuration: the template
    writes `merge dict .Values`, and that merge (mergo) skips null values, so a null key is
    absent there (z2jh.get_config("nameOverride", default=...) relies on it)."""
    return _without_nulls(values(*files))


def _without_nulls(node):
    if isinstance(node, dict):
        return {k: _without_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_without_nulls(v) for v in node]
    return node
