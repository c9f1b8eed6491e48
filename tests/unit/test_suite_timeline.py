"""The suite timeline's summary: wall time, each worker's busy time, the idle tail and
the longest files, from the lines the workers write."""

from __future__ import annotations

from bench.suite_timeline import file_costs, run_order, summary


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


def test_the_durations_give_each_files_seconds_and_cpu_longest_first() -> None:
    lines: list[dict[str, object]] = [
        {
            "worker": "gw0",
            "file": "a.py",
            "test": "a.py::x",
            "start": 0.0,
            "end": 1.0,
            "cpu": 0.5,
            "cpu_children": 0.25,
        },
        {"worker": "gw1", "file": "b.py", "test": "b.py::y", "start": 0.0, "end": 5.0},
        {
            "worker": "gw0",
            "file": "a.py",
            "test": "a.py::z",
            "start": 1.0,
            "end": 2.5,
            "cpu": 1.0,
            "cpu_children": 0.0,
        },
    ]
    assert list(file_costs(lines).items()) == [("b.py", [5.0, 0.0]), ("a.py", [2.5, 1.8])]


def test_the_order_is_longest_first_with_waiting_and_computing_files_alternating() -> None:
    costs = {
        "calls_long.py": [300.0, 30.0],
        "calls_short.py": [100.0, 10.0],
        "store.py": [50.0, 45.0],
        "unit.py": [5.0, 5.0],
        "browser.py": [80.0, 60.0],
    }
    files = ["unit.py", "store.py", "new_file.py", "calls_short.py", "browser.py", "calls_long.py"]
    assert run_order(files, costs) == [
        "new_file.py",  # not measured yet: taken for the longest waiting file
        "browser.py",
        "calls_long.py",
        "store.py",
        "calls_short.py",
        "unit.py",
    ]


def test_without_figures_every_file_counts_as_waiting_and_they_go_by_name() -> None:
    assert run_order(["b.py", "a.py"], {}) == ["a.py", "b.py"]


def test_short_computing_files_are_spread_in_proportion_to_their_time() -> None:
    costs = {"a.py": [100.0, 5.0], "b.py": [100.0, 5.0]}
    costs |= {f"c{i}.py": [10.0, 10.0] for i in range(4)}
    assert run_order(sorted(costs), costs) == ["a.py", "c0.py", "c1.py", "b.py", "c2.py", "c3.py"]
