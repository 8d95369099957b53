"""`kns backup` and `kns restore`: the platform's state in one archive, taken while the hub runs.

- `places.py`  what is backed up and where it goes back, from the settings: the folder trees
               (state folder, exam root, the exam share) and the three databases (platform,
               hub, gradebook), each SQLite or PostgreSQL;
- `postgres.py` pg_dump / pg_restore with the password in a private PGPASSFILE, never on a
               command line;
- `archive.py` the archive: written staged-then-renamed with a manifest (sizes, sha256, kinds,
               alembic revision, time); read back only after every checksum was verified, into
               fresh folders, never through a link;
- `cli.py`     the two commands (entry points in pyproject.toml).

Operator's guide: docs/operations.md, "Backup and restore".
"""
