"""The message catalogue: every sentence a person reads comes from here.

Messages live in `kynangso/locale/<lang>/<area>.yaml`, one file per area so that
areas can be edited independently; keys are `<area>.<name>` and the file name is
the area. Values are `str.format` templates. Text is normalised to NFC on load.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

import yaml

DEFAULT_LANG = "vi"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def catalogue(lang: str = DEFAULT_LANG) -> dict[str, str]:
    """All messages of one language, keyed `<area>.<name>`."""
    # One cache entry per language: `catalogue()` and `catalogue("vi")` were two for functools,
    # and a report kernel read the 40 files twice.
    return _catalogue(lang)


@cache
def _catalogue(lang: str) -> dict[str, str]:
    messages: dict[str, str] = {}
    folder = resources.files("kynangso") / "locale" / lang
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        area = entry.name[: -len(".yaml")]
        # libyaml's loader when present: the pure-Python one takes ~0.4 s of a report's start.
        data = yaml.load(entry.read_text(encoding="utf-8"), Loader=_LOADER) or {}
        for name, text in _flatten(data):
            messages[f"{area}.{name}"] = unicodedata.normalize("NFC", str(text))
    return messages


def _flatten(data: dict, prefix: str = ""):
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, name + ".")
        else:
            yield name, value


def t(key: str, /, _lang: str = DEFAULT_LANG, **params: object) -> str:
    """The message `key` with `params` filled in.

    A missing key is a programming error, so it raises KeyError rather than
    showing an English fallback to a learner.
    """
    template = catalogue(_lang)[key]
    return template.format(**params) if params else template


def nfc(value):
    """`value` with every string in it (nested lists and dicts too) normalised to NFC.

    Vietnamese typed by an operator or read from a file may be decomposed (NFD).
    """
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [nfc(v) for v in value]
    if isinstance(value, dict):
        return {k: nfc(v) for k, v in value.items()}
    return value
