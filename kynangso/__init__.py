"""Kỹ Năng Số platform core: settings, database, staff directory, message catalogue, `kns`."""

__version__ = "0.1.0"
