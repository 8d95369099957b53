"""What a backup holds and where a restore puts it back, from the settings.

Trees (each a top folder of the archive):
- `state`        the state folder: the hub's state (cookie secret, tokens, the hub database when
                 SQLite), the platform database when SQLite, the training CA (pki/), the demo
                 course. Left out: `homes/` (learners' homes on a hub that does not isolate: the
                 machine's file backup keeps homes, as it does /home on an isolated hub) and
                 `services/` (rewritten from the settings at every start);
- `exams`        the exam root: the course (sources, release, submitted, autograded, feedback,
                 the SQLite gradebook) and, on a hub that does not isolate, the exchange;
- `exams-share`  the isolated hub's share: nbgrader's exchange (the desk's inbound) and the
                 variant secret.
A tree that lies inside another is not repeated.

Databases: `platform` (database.url), `hub` (hub.db_url), `gradebook` (exams.gradebook_url).
An SQLite database inside a tree travels as that tree's file (copied with SQLite's online
backup, like every SQLite file found); elsewhere as `databases/<name>.sqlite`. A PostgreSQL
database travels as `databases/<name>.pgdump`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kynangso.backup import postgres
from kynangso.settings import Settings, isolation_enabled

SKIPPED_IN_STATE = ("homes", "services")


@dataclass(frozen=True)
class Database:
    name: str
    url: str

    @property
    def kind(self) -> str:
        return "postgresql" if postgres.is_postgres(self.url) else "sqlite"

    @property
    def file(self) -> Path | None:
        prefix = "sqlite:///"
        return Path(self.url[len(prefix):]) if self.url.startswith(prefix) else None


@dataclass(frozen=True)
class Places:
    trees: dict[str, Path]  # archive top folder -> folder on this machine
    databases: list[Database]
    grader_account: str

    def member_of(self, path: Path) -> str | None:
        """The archive name of a file inside one of the trees, else None."""
        for label, top in self.trees.items():
            try:
                rel = path.relative_to(top)
            except ValueError:
                continue
            if rel.parts and rel.parts[0] in SKIPPED_IN_STATE and label == "state":
                return None
            return f"{label}/{rel.as_posix()}"
        return None


def _inside(path: Path, others: list[Path]) -> bool:
    return any(path == o or o in path.parents for o in others)


def places(settings: Settings) -> Places:
    from kynangso.exams import course

    where = course.places(settings, isolation_enabled(settings, os.geteuid() == 0))
    trees = {"state": settings.state_dir}
    for label, folder in (("exams", where.root), ("exams-share", where.share)):
        if not _inside(folder, list(trees.values())):
            trees[label] = folder
    databases = [Database("platform", settings.database_url), Database("hub", settings.hub_db_url),
                 Database("gradebook", where.gradebook_url)]
    return Places(trees, databases, settings["exams"]["grader_account"])
