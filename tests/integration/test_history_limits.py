"""`history --limits`: the limit hits of a real database, filled through the Store, printed by the program
run as a subprocess (a table in the user's time, CSV and JSON in UTC)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from tray_app.core.models import UsageWindow
from tray_app.store import Store

from ..conftest import CliEnv

# A fixed offset without daylight saving, so the table's times are exact: nine hours ahead of UTC.
ZONE = "XYZ-9"


def _filled(cli: CliEnv) -> tuple[datetime, datetime, datetime, datetime]:
    """Two hits: the 5-hour window at 100 % for two hours (ended at its reset, an hour ago; the app was
    closed for part of it), and Fable's weekly limit locked half an hour ago and still locked."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    five_start, five_reset = now - timedelta(hours=3), now - timedelta(hours=1)
    fable_start, fable_reset = now - timedelta(minutes=30), now + timedelta(days=2)
    cli.home.mkdir(parents=True, exist_ok=True)

    def five(percent: float) -> UsageWindow:
        return UsageWindow("five_hour", "5-hour", percent, five_reset)

    def fable(locked: bool) -> UsageWindow:
        return UsageWindow("seven_day_overage_included", "Fable weekly", 70.0, fable_reset, locked=locked)

    with Store.open(cli.home / "usage_history.db") as store:
        store.add_windows(five_start - timedelta(minutes=10), [five(96.0), fable(False)])
        store.add_windows(five_start, [five(100.0), fable(False)])
        store.add_windows(five_start + timedelta(minutes=5), [five(98.0), fable(False)])  # stale
        store.add_windows(five_reset - timedelta(minutes=20), [five(100.0), fable(False)])  # after a gap
        store.add_windows(fable_start, [UsageWindow("five_hour", "5-hour", 3.0, now + timedelta(hours=4))])
        store.add_windows(fable_start, [fable(True)])
        store.add_windows(now - timedelta(minutes=5), [fable(True)])
    return five_start, five_reset, fable_start, now


def test_limits_as_a_table_in_local_time(cli: CliEnv) -> None:
    five_start, five_reset, fable_start, _ = _filled(cli)
    out = cli.run("history", "--limits", "--since", "7d", TZ=ZONE)
    assert out.code == 0, out.stderr
    local = timedelta(hours=9)
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["Window", "Started", "Ended", "Lasted"]
    assert lines[1].startswith("5-hour ")
    assert f"{five_start + local:%a %d %b %H:%M}" in lines[1]
    assert f"{five_reset + local:%a %d %b %H:%M}" in lines[1]
    assert lines[1].endswith("2 h 0 m")
    assert lines[2].startswith("Fable weekly ")
    assert f"{fable_start + local:%a %d %b %H:%M}" in lines[2]
    assert " ongoing " in lines[2] and lines[2].endswith("so far")
    assert lines[3] == "(2 in all; times in XYZ)"


def test_limits_as_csv_and_json_in_utc(cli: CliEnv) -> None:
    five_start, five_reset, fable_start, now = _filled(cli)
    rows = list(csv.DictReader(io.StringIO(cli.run("history", "--limits", "--format", "csv").stdout)))
    assert [(r["window"], r["label"], r["started_at"], r["ended_at"]) for r in rows] == [
        (
            "five_hour",
            "5-hour",
            five_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            five_reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
        ),
        ("seven_day_overage_included", "Fable weekly", fable_start.strftime("%Y-%m-%dT%H:%M:%SZ"), ""),
    ]
    assert rows[0]["seconds"] == "7200" and 1800 <= int(rows[1]["seconds"]) < 1800 + 120

    document = cli.run("history", "--limits", "--since", "2h", "--format", "json").json()
    # Looking back two hours finds the 5-hour hit from the first reading in that span (an hour of it).
    hits = document["limit_hits"]
    assert [(hit["window"], hit["ended_at"]) for hit in hits] == [
        ("five_hour", five_reset.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("seven_day_overage_included", None),
    ]
    assert hits[0]["started_at"] == (five_reset - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert hits[1]["label"] == "Fable weekly" and hits[1]["seconds"] >= 1800
    assert document["since"] <= (now - timedelta(hours=2) + timedelta(minutes=2)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_no_hits_says_so_and_text_is_only_for_limits(cli: CliEnv) -> None:
    out = cli.run("history", "--limits")
    assert out.code == 0 and out.stdout == "No limit hits in this period.\n"
    empty = cli.run("history", "--limits", "--format", "json").json()
    assert empty["limit_hits"] == []
    wrong = cli.run("history", "--format", "text")
    assert wrong.code == 2 and "--format text is for --limits" in wrong.stderr


def test_status_json_carries_the_weeks_hits_after_a_poll(cli: CliEnv) -> None:
    five_start, five_reset, fable_start, _ = _filled(cli)
    document = cli.run("status", "--json").json()
    hits = document["code"]["limit_hits"]
    assert [(hit["label"], hit["started_at"], hit["ended_at"]) for hit in hits] == [
        ("5-hour", five_start.strftime("%Y-%m-%dT%H:%M:%SZ"), five_reset.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("Fable weekly", fable_start.strftime("%Y-%m-%dT%H:%M:%SZ"), None),
    ]
    assert hits[0]["seconds"] == 7200 and hits[1]["seconds"] >= 1800
