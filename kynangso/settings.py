"""Settings: embedded defaults, overlaid by one YAML file, validated by a JSON Schema.

Layers, in order (the TLJH pattern): `defaults.yaml` shipped with the package, then
the file named by `$KNS_SETTINGS` (or passed explicitly), then `$KNS_STATE_DIR`
for the state folder. Unknown keys are errors that name the closest known key.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from kynangso.errors import SettingsError
from kynangso.i18n import t


def _schema() -> dict:
    return json.loads((resources.files("kynangso") / "settings_schema.json").read_text("utf-8"))


def _defaults() -> dict:
    return yaml.safe_load((resources.files("kynangso") / "defaults.yaml").read_text("utf-8"))


def merge(base: dict, override: dict) -> dict:
    """Deep-merge `override` into a copy of `base` (mappings merge, other values replace)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _schema_at(schema: dict, path: list) -> dict:
    for part in path:
        schema = schema.get("properties", {}).get(part, {})
    return schema


def _problem(err: jsonschema.ValidationError, where: str) -> str:
    """One schema violation as a Vietnamese sentence."""
    v, expected = err.validator, err.validator_value
    if v == "type":
        return t("core.settings_bad_type", where=where, value=err.instance, expected=expected)
    if v == "enum":
        return t("core.settings_bad_choice", where=where, value=err.instance,
                 allowed=", ".join(map(str, expected)))
    if v in ("minimum", "maximum"):
        return t(f"core.settings_{v}", where=where, value=err.instance, limit=expected)
    if v == "pattern":
        return t("core.settings_bad_pattern", where=where, value=err.instance, pattern=expected)
    if v == "minLength":
        return t("core.settings_empty", where=where)
    return f"{where}: {err.message}"


def validate(data: dict, source: str = "settings") -> None:
    """Raise SettingsError listing every problem, each with its location."""
    schema = _schema()
    problems = []
    for err in sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=str):
        where = ".".join(str(p) for p in err.absolute_path) or t("core.settings_root")
        if err.validator == "additionalProperties":
            known = list(_schema_at(schema, list(err.absolute_path)).get("properties", {}))
            for key in sorted(set(err.instance) - set(known)):
                close = difflib.get_close_matches(key, known, n=1)
                hint = (t("core.settings_did_you_mean", key=close[0]) if close
                        else t("core.settings_valid_keys", keys=", ".join(known)))
                full = f"{where}.{key}" if err.absolute_path else key
                problems.append(t("core.settings_unknown_key", key=full, hint=hint))
        else:
            problems.append(_problem(err, where))
    if problems:
        raise SettingsError(
            "core.settings_invalid",
            log_detail=f"{source}: " + "; ".join(problems),
            source=source,
            problems="\n".join(f"  - {p}" for p in problems),
        )


@dataclass(frozen=True)
class Settings:
    """Validated settings. `data` is the merged mapping; helpers resolve paths."""

    data: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    @property
    def state_dir(self) -> Path:
        return Path(self.data["state_dir"]).expanduser().resolve()

    @property
    def database_url(self) -> str:
        url = self.data["database"]["url"]
        return url or f"sqlite:///{self.state_dir / 'kynangso.sqlite'}"

    @property
    def hub_db_url(self) -> str:
        url = self.data["hub"]["db_url"]
        return url or f"sqlite:///{self.state_dir / 'hub' / 'jupyterhub.sqlite'}"


def load_settings(path: str | os.PathLike | None = None, overrides: dict | None = None) -> Settings:
    """Defaults + the settings file (`path`, else $KNS_SETTINGS) + `overrides`."""
    data = _defaults()
    path = path or os.environ.get("KNS_SETTINGS")
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
            user = yaml.safe_load(text) or {}
        except FileNotFoundError:
            raise SettingsError("core.settings_missing", source=str(path)) from None
        except yaml.YAMLError as exc:
            raise SettingsError("core.settings_yaml", log_detail=str(exc), source=str(path), detail=exc) from None
        if not isinstance(user, dict):
            raise SettingsError("core.settings_yaml", source=str(path), detail=t("core.settings_not_mapping"))
        validate(user, source=str(path))
        data = merge(data, user)
    if overrides:
        data = merge(data, overrides)
    if os.environ.get("KNS_STATE_DIR"):
        data["state_dir"] = os.environ["KNS_STATE_DIR"]
    validate(data)
    return Settings(data)


def isolation_enabled(settings: Settings, is_root: bool) -> bool:
    """Whether hub users are isolated from each other (needed before any exam opens): their own
    Unix accounts, or on Kubernetes their own pods and volumes."""
    if settings["spawner"] == "kubernetes":
        return True
    mode = settings["isolation"]["mode"]
    return mode == "unix_users" or (mode == "auto" and is_root)
