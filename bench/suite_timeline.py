"""Where the test suite's time goes: its wall time, each worker's busy time, the files
that take longest, and how long the run's tail kept fewer than all workers busy.

    HOTLINE_TEST_TIMELINE=/tmp/timeline.jsonl make test
    python -m bench.suite_timeline /tmp/timeline.jsonl
    python -m bench.suite_timeline /tmp/timeline.jsonl --durations tests/durations.json

The second form also writes each file's seconds and CPU seconds, from which the suite
orders its files (`run_order`, used by tests/conftest.py).

With `--dist loadfile` a file's tests run one after another on one worker, so the
longest file bounds the run from below whatever the number of workers. The CPU the
tests cost (theirs and their children's) bounds it from below too: on a machine with
N cores the wall is at least the summed CPU over N.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path


def summary(lines: list[dict[str, object]], top: int = 15) -> str:
    if not lines:
        return "no tests in the timeline"
    starts = [float(str(x["start"])) for x in lines]
    ends = [float(str(x["end"])) for x in lines]
    t0, t1 = min(starts), max(ends)
    busy: dict[str, float] = defaultdict(float)
    last_end: dict[str, float] = defaultdict(float)
    per_file: dict[str, float] = defaultdict(float)
    cpu_file: dict[str, float] = defaultdict(float)
    cpu_dir: dict[str, float] = defaultdict(float)
    for x, s, e in zip(lines, starts, ends, strict=True):
        busy[str(x["worker"])] += e - s
        last_end[str(x["worker"])] = max(last_end[str(x["worker"])], e)
        per_file[str(x["file"])] += e - s
        cpu = float(str(x.get("cpu", 0))) + float(str(x.get("cpu_children", 0)))
        cpu_file[str(x["file"])] += cpu
        cpu_dir[str(x["file"]).rsplit("/", 1)[0]] += cpu
    total = sum(busy.values())
    first_idle = min(last_end.values())
    out = [
        f"wall {t1 - t0:7.1f} s, tests {len(lines)}, summed test time {total:7.1f} s, "
        f"workers {len(busy)}, ideal wall {total / len(busy):7.1f} s",
        f"tail: the first worker ran out of files {t1 - first_idle:6.1f} s before the end",
    ]
    for worker in sorted(busy):
        out.append(
            f"  {worker:>6}: busy {busy[worker]:7.1f} s, done at {last_end[worker] - t0:7.1f} s"
        )
    out.append("longest files (a file runs on one worker; its total bounds the wall):")
    for name, secs in sorted(per_file.items(), key=lambda kv: -kv[1])[:top]:
        out.append(f"  {secs:7.1f} s  {name}")
    if cpu_file:
        cpu_total = sum(cpu_file.values())
        out.append(f"CPU of the tests and their children: {cpu_total:7.1f} s")
        for name, secs in sorted(cpu_dir.items(), key=lambda kv: -kv[1]):
            out.append(f"  {secs:7.1f} s  {name}/")
        out.append("files that cost the most CPU:")
        for name, secs in sorted(cpu_file.items(), key=lambda kv: -kv[1])[:top]:
            out.append(f"  {secs:7.1f} s  {name}")
    return "\n".join(out)


def file_costs(lines: list[dict[str, object]]) -> dict[str, list[float]]:
    """Each file's summed test time and CPU seconds, longest first."""
    wall: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    for x in lines:
        wall[str(x["file"])] += float(str(x["end"])) - float(str(x["start"]))
        cpu[str(x["file"])] += float(str(x.get("cpu", 0))) + float(str(x.get("cpu_children", 0)))
    ranked = sorted(wall, key=lambda f: (-wall[f], f))
    return {f: [round(wall[f], 1), round(cpu[f], 1)] for f in ranked}


# A file whose tests used the CPU for less than this share of their time mostly waits
# (on the prompts, rings and timers of real calls). The share is measured in a full
# run, where six workers share two cores: a file that only computes shows about a third
# there, a real-call file a tenth or less.
WAITING = 0.18


def run_order(files: list[str], costs: dict[str, list[float]]) -> list[str]:
    """The files in the order that ends a CPU-bound run soonest.

    Two lists, each longest first, so that no long file starts late and runs alone at
    the end: the files that mostly wait and those that mostly compute. They are merged
    in proportion to their time, so that all along the run some workers wait on calls
    while the others keep the cores busy. (With the longest first alone, every worker
    waited on calls for the first ten minutes with the cores a third busy, and then
    every worker computed.) A file not measured yet counts as the longest that waits.
    """
    longest = max((c[0] for c in costs.values()), default=0.0) + 1.0

    def wall(f: str) -> float:
        return costs[f][0] if f in costs else longest

    def waits(f: str) -> bool:
        return f not in costs or costs[f][1] < WAITING * costs[f][0]

    waiting = sorted((f for f in files if waits(f)), key=lambda f: (-wall(f), f))
    computing = sorted((f for f in files if not waits(f)), key=lambda f: (-wall(f), f))
    total_waiting = sum(map(wall, waiting)) or 1.0
    total_computing = sum(map(wall, computing)) or 1.0
    order: list[str] = []
    done_waiting = done_computing = 0.0
    while waiting or computing:
        # Take from the list that is behind, as a share of its own time.
        if waiting and (
            not computing or done_waiting / total_waiting <= done_computing / total_computing
        ):
            order.append(waiting.pop(0))
            done_waiting += wall(order[-1])
        else:
            order.append(computing.pop(0))
            done_computing += wall(order[-1])
    return order


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 3) or (len(argv) == 3 and argv[1] != "--durations"):
        print(__doc__, file=sys.stderr)
        return 2
    text = Path(argv[0]).read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    print(summary(lines))
    if len(argv) == 3:
        costs = file_costs(lines)
        body = "{\n" + ",\n".join(f" {json.dumps(f)}: {c}" for f, c in costs.items()) + "\n}\n"
        Path(argv[2]).write_text(body, encoding="utf-8")
        print(f"wrote the seconds and CPU of {len(costs)} files to {argv[2]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
