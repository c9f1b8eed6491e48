"""The suite timeline's summary: wall time, each worker's busy time, the idle tail and
the longest files, from the lines the workers write."""

from __future__ import annotations

from bench.suite_timeline import file_seconds, summary


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


def test_the_cpu_is_summed_by_directory_and_by_file() -> None:
    lines: list[dict[str, object]] = [
        {
            "worker": "gw0",
            "file": "t/u/a.py",
            "test": "x",
            "start": 0.0,
            "end": 1.0,
            "cpu": 0.5,
            "cpu_children": 2.0,
        },
        {
            "worker": "gw0",
            "file": "t/u/b.py",
            "test": "y",
            "start": 1.0,
            "end": 2.0,
            "cpu": 1.0,
            "cpu_children": 0.0,
        },
        {
            "worker": "gw1",
            "file": "t/i/c.py",
            "test": "z",
            "start": 0.0,
            "end": 9.0,
            "cpu": 0.25,
            "cpu_children": 0.0,
        },
    ]
    cpu = summary(lines).split("CPU of the tests and their children:")[1].splitlines()
    assert cpu[0].split() == ["3.8", "s"]
    assert cpu[1].split() == ["3.5", "s", "t/u/"]
    assert cpu[2].split() == ["0.2", "s", "t/i/"]
    assert cpu[4].split() == ["2.5", "s", "t/u/a.py"]


def test_the_durations_put_the_longest_file_first() -> None:
    lines: list[dict[str, object]] = [
        {"worker": "gw0", "file": "a.py", "test": "a.py::x", "start": 0.0, "end": 1.0},
        {"worker": "gw1", "file": "b.py", "test": "b.py::y", "start": 0.0, "end": 5.0},
        {"worker": "gw0", "file": "a.py", "test": "a.py::z", "start": 1.0, "end": 2.5},
    ]
    assert list(file_seconds(lines).items()) == [("b.py", 5.0), ("a.py", 2.5)]
