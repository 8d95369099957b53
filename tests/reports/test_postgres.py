"""The data layer on a real PostgreSQL server gives the same frames as on SQLite.

The server is the session's throwaway cluster (tests/conftest.py `postgres`,
kynangso.pgcluster).
"""

from __future__ import annotations

import pandas as pd
import pytest

from reports.data import GradebookSource, load
from tests.reports.conftest import build_office

pytestmark = pytest.mark.postgres


def test_same_frames_on_postgresql_and_sqlite(postgres, tmp_path, data):
    """Do the platform and the gradebook on PostgreSQL give exactly the SQLite frames?"""
    platform = postgres.create()
    _url, sources = build_office(tmp_path, platform_url=platform, gradebook_url=postgres.create())
    assert sources[0].db_url.startswith("postgresql")
    pg = load(platform, [GradebookSource(sources[0].db_url, sources[0].course_dir)])
    for name in ("history", "exams", "courses"):
        a = getattr(pg, name).sort_values(list(getattr(pg, name).columns[:3])).reset_index(drop=True)
        b = getattr(data, name).sort_values(list(a.columns[:3])).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
    la = pg.levels().sort_values(["username", "competence"]).reset_index(drop=True)
    lb = data.levels().sort_values(["username", "competence"]).reset_index(drop=True)
    cols = ["username", "competence", "level", "period_id", "items", "department", "in_directory"]
    pd.testing.assert_frame_equal(la[cols], lb[cols], check_dtype=False)
    assert list(pg.needs()["username"]) == list(data.needs()["username"])
