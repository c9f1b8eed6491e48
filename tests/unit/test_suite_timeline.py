"""The suite timeline's summary: wall time, each worker's busy time, the idle tail and
the longest files, from the lines the workers write."""

from __future__ import annotations

from bench.suite_timeline import summary


def test_the_summary_finds_the_tail_and_the_longest_file() -> None:
    lines: list[dict[str, object]] = [
        {"worker": "gw0", "file": "a.py", "test": "a.py::x", "start": 0.0, "end": 10.0},
        {"worker": "gw0", "file": "a.py", "test": "a.py::y", "start": 10.0, "end": 70.0},
        {"worker": "gw1", "file": "b.py", "test": "b.py::z", "start": 0.0, "end": 20.0},
    ]
    text = summary(lines)
    assert text.splitlines()[0].startswith("wall    70.0 s, tests 3, summed test time    90.0 s")
    assert "ideal wall    45.0 s" in text.splitlines()[0]
    assert "ran out of files   50.0 s before the end" in text
    files = text.split("longest files")[1].splitlines()[1:]
    assert files[0].split() == ["70.0", "s", "a.py"]
    assert files[1].split() == ["20.0", "s", "b.py"]


def test_an_empty_timeline_says_so() -> None:
    assert summary([]) == "no tests in the timeline"
