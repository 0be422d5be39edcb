"""README's benchmark table lists every key a benchmark (or a fault test) writes, with its goal."""

from __future__ import annotations

import re

from bench import readme_table
from tests.conftest import REPO


def _readme_rows() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Benchmark figures", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z0-9_]+)` \|", section, flags=re.MULTILINE)


def test_every_key_the_benchmarks_write_is_listed():
    assert readme_table.unlisted_keys() == {}, "add these keys to bench/readme_table.py FIGURES"


def test_the_readme_has_a_row_for_every_listed_key_in_order():
    assert _readme_rows() == list(readme_table.FIGURES), (
        "README's benchmark table is stale: paste `python -m bench.readme_table`")


def test_keys_are_found_where_benchmarks_build_them():
    source = '''
def measure():
    return {"listed_ms": 1.0}
def main():
    figures = {}
    figures["stored_s"] = 2.0
    figures[f"{key}_pct"] = 3.0
    record({"passed_x": 4.0, **figures})
'''
    assert readme_table.written_keys(source) == {"listed_ms", "stored_s", "f'{key}_pct'", "passed_x"}


def test_the_table_shows_measured_values_and_says_what_was_not_measured():
    table = readme_table.readme_table({"pending_p99_ms": 24.56, "approvals_done": 33000, "dedup_query_ms": 0.0571})
    rows = {line.split(" | ")[0]: line for line in table.splitlines()}
    assert rows["| `pending_p99_ms`"].endswith("| ≤ 50 | 24.56 |")
    assert rows["| `approvals_done`"].endswith("| 33,000 |")
    assert rows["| `dedup_query_ms`"].endswith("| ≤ 5 | 0.0571 |")
    assert rows["| `demo_seconds`"].endswith(f"| ≤ 300 | {readme_table.NOT_MEASURED} |")
