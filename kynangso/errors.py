"""Errors with two audiences (the JupyterHub SpawnException pattern).

`user_message` is Vietnamese, from the message catalogue, and says what to do;
`log_detail` is for the operator's log.
"""

from __future__ import annotations

from kynangso.i18n import t


class KnsError(Exception):
    """A failure the person in front of the screen can act on.

    `key` names a message in the catalogue; `params` fill it in.
    """

    def __init__(self, key: str, log_detail: str | None = None, **params: object):
        self.key = key
        self.params = params
        self.user_message = t(key, **params)
        self.log_detail = log_detail or f"{key} {params}"
        super().__init__(self.user_message)


class SettingsError(KnsError):
    """The settings file is wrong; nothing was started."""


class ValidationError(KnsError):
    """Input (a file, a form) was rejected as a whole; nothing was stored.

    `problems` lists every problem found, each already in Vietnamese.
    """

    def __init__(self, key: str, problems: list[str] | None = None, log_detail: str | None = None,
                 **params: object):
        self.problems = list(problems or [])
        super().__init__(key, log_detail=log_detail or f"{key}: {len(self.problems)} problem(s)", **params)
