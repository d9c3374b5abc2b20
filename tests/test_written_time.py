"""A date and time a person writes, read one way everywhere: `listen --start`, `label --start`,
`evaluate --night --start` and the noted-episodes CSV accept the same forms and refuse a bad
one with the same one line, naming where it was written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import CliRunner, assert_one_error_line

RATE_HZ = 16_000
FORMS = '"2026-11-25 21:00" (local time) or with its offset, "2026-11-25T21:00+01:00"'
BAD_TIMES = [
    ("2026-12-05", "a date without a time of day"),  # midnight, before: not a night's start
    ("yesterday", "not a date and a time of day"),
    ("2026-12-05 21", "not a date and a time of day"),  # 21:00, before
    ("2026-02-30 21:00", "no such date or time (day is out of range for month)"),
    ("2026-12-05 24:00", "no such date or time (hour must be in 0..23)"),
    ("\uff12\uff10\uff12\uff16-12-05 21:00", "not a date and a time of day"),  # fullwidth
    ("0001-01-01 00:30+01:00", "year 1 is not one of 1970 to 2999"),  # a traceback, before
    ("9999-12-31 23:59Z", "year 9999 is not one of 1970 to 2999"),  # a recording past 9999
]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("recording") / "night.wav"
    sf.write(path, np.zeros(RATE_HZ, dtype=np.float32), RATE_HZ)
    return path


def episodes(path: Path, start: str) -> Path:
    path.write_text(f"start,end,label\n{start},2026-12-05T21:10+01:00,crying\n")
    return path


@pytest.mark.parametrize(("written", "problem"), BAD_TIMES)
def test_every_start_option_refuses_a_bad_time_with_one_line(
    run_cli: CliRunner, recording: Path, tmp_path: Path, written: str, problem: str
) -> None:
    noted = episodes(tmp_path / "episodes.csv", "2026-12-05T21:05+01:00")
    commands = {
        "listen": ["listen", "--input", recording, "--no-db"],
        "label": ["label", "--episodes", noted, "--recording", recording, "--out", tmp_path],
        "evaluate": ["evaluate", "--night", recording, "--truth", noted],
    }
    for name, args in commands.items():
        line = assert_one_error_line(run_cli(*args, "--start", f" {written} "))
        assert line == f"error: --start {written!r}: {problem}; write it as {FORMS}", name


@pytest.mark.parametrize(("written", "problem"), BAD_TIMES)
def test_a_bad_time_in_the_episodes_csv_is_the_same_line_with_its_place(
    run_cli: CliRunner, recording: Path, tmp_path: Path, written: str, problem: str
) -> None:
    noted = episodes(tmp_path / "episodes.csv", written)
    start = ["--start", "2026-12-05 21:00"]
    for args in (
        ["label", "--episodes", noted, "--recording", recording, "--out", tmp_path, *start],
        ["evaluate", "--night", recording, "--truth", noted, *start],
    ):
        line = assert_one_error_line(run_cli(*args))
        expected = f"{noted} line 2, start {written!r}: {problem}; write it as {FORMS}"
        assert line == f"error: {expected}", args[0]


def test_an_empty_time_in_the_episodes_csv_says_so(
    run_cli: CliRunner, recording: Path, tmp_path: Path
) -> None:
    noted = episodes(tmp_path / "episodes.csv", "")
    start = ["--start", "2026-12-05 21:00"]
    for args in (
        ["label", "--episodes", noted, "--recording", recording, "--out", tmp_path, *start],
        ["evaluate", "--night", recording, "--truth", noted, *start],
    ):
        line = assert_one_error_line(run_cli(*args))
        assert line == f"error: {noted} line 2, start '': empty; write it as {FORMS}", args[0]


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        (
            "2026-03-29 02:30",
            "the clocks skipped that hour (daylight saving); write it with its offset, "
            '"2026-03-29T02:30+01:00" or "2026-03-29T02:30+02:00"',
        ),
        (
            "2026-10-25 02:30:15",
            "the clocks showed that hour twice (daylight saving); write it with its offset, "
            '"2026-10-25T02:30:15+02:00" (the first) or "2026-10-25T02:30:15+01:00" (the second)',
        ),
    ],
    ids=["skipped", "twice"],
)
def test_a_local_time_daylight_saving_skipped_or_repeated_is_refused_with_its_offsets(
    run_cli: CliRunner, recording: Path, tmp_path: Path, written: str, problem: str
) -> None:
    """Europe/Berlin has no 02:30 on 2026-03-29 and two on 2026-10-25: either was taken as
    some moment an hour off, silently, shifting every label of the night."""
    zone = ["--timezone", "Europe/Berlin"]
    noted = episodes(tmp_path / "episodes.csv", "2026-12-05T21:05+01:00")
    for args in (
        ["label", "--episodes", noted, "--recording", recording, "--out", tmp_path, *zone],
        ["evaluate", "--night", recording, "--truth", noted, *zone],
    ):
        line = assert_one_error_line(run_cli(*args, "--start", written))
        assert line == f"error: --start {written!r}: {problem}", args[0]
    noted = episodes(tmp_path / "episodes.csv", written)
    args = ["label", "--episodes", noted, "--recording", recording, "--out", tmp_path, *zone]
    line = assert_one_error_line(run_cli(*args, "--start", "2026-12-05 21:00"))
    assert line == f"error: {noted} line 2, start {written!r}: {problem}"
