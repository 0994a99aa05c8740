"""Validate the committed attack event list data/attacks/iraq-us-sites-2019-2022.csv.

These checks run on the real file (no network): schema, dates, enums, provenance
fields, unique ids, date order, and no duplicate (date, target) events.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "attacks" / "iraq-us-sites-2019-2022.csv"

COLUMNS = [
    "id", "date", "date_precision", "place", "governorate", "target_type", "target",
    "weapon", "claimed_by", "casualties", "source_outlet", "source_date", "source_title",
    "source_url", "notes",
]
TARGET_TYPES = {"base", "embassy", "convoy", "airport", "other"}
WEAPONS = {"rocket", "ied", "drone", "mortar", "other", "unknown"}
PRECISIONS = {"day", "month"}
START, END = dt.date(2019, 1, 1), dt.date(2022, 12, 31)


@pytest.fixture(scope="module")
def table() -> tuple[list[str], list[dict[str, str]]]:
    with DATA.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    return header, rows


def _where(i: int, field: str) -> str:
    # line i+2: header is line 1, rows start on line 2 (no embedded newlines are allowed)
    return f"{DATA.name}:{i + 2}: {field}"


def test_columns_exact(table):
    header, rows = table
    assert header == COLUMNS
    assert rows, "the event list is empty"
    for i, r in enumerate(rows):
        assert None not in r, _where(i, "extra cells")
        assert all(v is not None for v in r.values()), _where(i, "missing cells")


def test_no_embedded_newlines():
    text = DATA.read_text(encoding="utf-8")
    with DATA.open(newline="", encoding="utf-8") as f:
        n_records = sum(1 for _ in csv.reader(f))
    assert n_records == len(text.splitlines())


def test_dates_parse_and_lie_in_range(table):
    _, rows = table
    for i, r in enumerate(rows):
        d = dt.date.fromisoformat(r["date"])
        assert START <= d <= END, _where(i, "date")
        assert r["date_precision"] in PRECISIONS, _where(i, "date_precision")
        if r["date_precision"] == "month":
            # month-precision events are stored on the 1st of the month
            assert d.day == 1, _where(i, "date")
        s = dt.date.fromisoformat(r["source_date"])
        # a report cannot predate the event it reports (month-level events: same month or later)
        floor = d.replace(day=1)
        assert s >= floor, _where(i, "source_date")


def test_enums(table):
    _, rows = table
    for i, r in enumerate(rows):
        assert r["target_type"] in TARGET_TYPES, _where(i, "target_type")
        assert r["weapon"] in WEAPONS, _where(i, "weapon")


def test_every_row_is_sourced(table):
    _, rows = table
    for i, r in enumerate(rows):
        assert r["source_outlet"].strip(), _where(i, "source_outlet")
        assert r["source_date"].strip(), _where(i, "source_date")
        assert r["source_url"].strip() or r["source_title"].strip(), _where(i, "source_url")
        if r["source_url"]:
            assert r["source_url"].startswith(("http://", "https://")), _where(i, "source_url")
        assert r["target"].strip() and r["place"].strip(), _where(i, "target")


def test_ids_unique(table):
    _, rows = table
    ids = [r["id"] for r in rows]
    assert all(ids), "empty id"
    assert len(ids) == len(set(ids))


def test_rows_sorted_by_date(table):
    _, rows = table
    dates = [r["date"] for r in rows]
    assert dates == sorted(dates)


def test_one_row_per_event(table):
    _, rows = table
    keys = [(r["date"], r["target"]) for r in rows]
    assert len(keys) == len(set(keys))
