"""Demo data for `make run` and the tests: a fictional office, marked DỮ LIỆU MẪU everywhere."""

from kynangso.demo.office import DEMO_ACCOUNTS, load_demo_office, write_demo_csv

__all__ = ["DEMO_ACCOUNTS", "load_demo_office", "write_demo_csv"]
