"""Where the test suite's time goes: its wall time, each worker's busy time, the files
that take longest, and how long the run's tail kept fewer than all workers busy.

    HOTLINE_TEST_TIMELINE=/tmp/timeline.jsonl make test
    python -m bench.suite_timeline /tmp/timeline.jsonl

With `--dist loadfile` a file's tests run one after another on one worker, so the
longest file bounds the run from below whatever the number of workers.
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
    for x, s, e in zip(lines, starts, ends, strict=True):
        busy[str(x["worker"])] += e - s
        last_end[str(x["worker"])] = max(last_end[str(x["worker"])], e)
        per_file[str(x["file"])] += e - s
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
    return "\n".join(out)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    text = Path(argv[0]).read_text(encoding="utf-8")
    print(summary([json.loads(line) for line in text.splitlines() if line.strip()]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
