"""Routing versions with a synthetic 1,000-unit directory: load, search, publish, diff.

    .venv/bin/python -m bench.routing_versions [--units 1000] [--repeat 20]

Taipei's profile with its directory replaced by N units (50 agencies of N/50 units,
three extensions each, three liaison deputies and four emergency contacts per agency)
and the dispatch items kept. Prints the median and worst of each step; targets from
issue 17: search under 200 ms, publish under 5 s. Never asserts.

Parsing, the diff and publishing are measured cold (the parsed-text cache emptied
before each round). To compare two commits on a shared machine, run both in the same
session, one after the other (a second checkout of the older commit:
`git worktree add ../before COMMIT`, then `cd ../before && python -m bench.routing_versions`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from ivr.cli.routing import routing_problems as _routing_problems
from ivr.prompts import load_catalogue
from ivr.routing.directory_search import DirectoryIndex
from ivr.routing.loader import load_profile
from ivr.routing.publish import ReloadOutcome, Site, edit_draft, new_draft, publish
from ivr.routing.versions import diff, parse_text, read_document
from ivr.store import CaseStore, default_sqlite_url

REPO = Path(__file__).resolve().parents[1]
AGENCIES = 50
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def synthetic_directory(units: int) -> str:
    """A directory.yaml with `units` units, keeping Taipei's trunks and unit ids in use."""
    base = yaml.safe_load((REPO / "routing" / "taipei" / "directory.yaml").read_text("utf-8"))
    per = max(1, units // AGENCIES)
    number = 30000
    agencies: list[dict[str, Any]] = []
    # Taipei's own agencies first (menus and dispatch items name their units).
    kept = base["agencies"]
    made = sum(len(a["units"]) for a in kept)
    for a in range(AGENCIES):
        deputies = []
        for d in range(3):
            number += 1
            deputies.append({"name": f"代理人{a}-{d}", "extension": {"number": str(number)}})
        contacts = [
            {"name": f"首長{a}", "role": "head", "phone": f"09110{a:03d}01"},
            {"name": f"副首長{a}", "role": "deputy_head", "phone": f"09110{a:03d}02"},
            {"name": f"主秘{a}", "role": "chief_secretary", "phone": f"09110{a:03d}03"},
            {"name": f"科長{a}", "role": "section_chief", "phone": f"09110{a:03d}04"},
        ]
        unit_list = []
        for u in range(per):
            if made >= units:
                break
            made += 1
            numbers = []
            for _ in range(3):
                number += 1
                numbers.append(str(number))
            unit_list.append(
                {
                    "id": f"a{a}-u{u}",
                    "name": f"第{a}機關第{u}科 業務{u % 17}",
                    "name_en": f"Agency {a} section {u} duty {u % 17}",
                    "primary": {"number": numbers[0]},
                    "adjacent": [{"number": n} for n in numbers[1:]],
                }
            )
        if not unit_list:
            break
        agencies.append(
            {
                "id": f"a{a}",
                "name": f"第{a}機關",
                "name_en": f"Agency {a}",
                "supervisor_email": f"sup{a}@city.example",
                "liaison": {
                    "name": f"窗口{a}",
                    "email": f"liaison{a}@city.example",
                    "deputies": deputies,
                },
                "emergency_contacts": contacts,
                "units": unit_list,
            }
        )
    base["agencies"] = [*kept, *agencies]
    return yaml.safe_dump(base, allow_unicode=True, sort_keys=False)


# (wall ms, CPU ms of this process, all threads): on a shared machine the wall time
# includes waiting for a core; the CPU time is what the step costs.
Sample = tuple[float, float]


def cold(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` with the parsed-text cache emptied first, so every round parses afresh."""

    def call(*args: Any) -> Any:
        parse_text.cache_clear()
        return fn(*args)

    return call


def timed(fn: Callable[[], Any], repeat: int) -> list[Sample]:
    out = []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        out.append(((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000))
    return out


async def timed_async(fn: Callable[[], Awaitable[Any]], repeat: int) -> list[Sample]:
    out = []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        await fn()
        out.append(((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000))
    return out


def line(name: str, samples: list[Sample], target: float | None = None) -> str:
    wall = [w for w, _ in samples]
    cpu = statistics.median(c for _, c in samples)
    med, worst = statistics.median(wall), max(wall)
    verdict = "" if target is None else ("  met" if cpu < target else "  MISSED")
    goal = "" if target is None else f"  (target < {target:.0f} ms, on CPU)"
    return (
        f"{name:<42} CPU median {cpu:8.1f} ms   wall median {med:8.1f} ms, "
        f"worst {worst:8.1f} ms{goal}{verdict}"
    )


async def main(units: int, repeat: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-routing-versions-"))
    try:
        profile = work / "routing" / "taipei"
        shutil.copytree(REPO / "routing" / "taipei", profile)
        (profile / "directory.yaml").write_text(synthetic_directory(units), encoding="utf-8")
        catalogue = load_catalogue(REPO / "recordings")
        tables = load_profile(profile, catalogue=catalogue)
        count = sum(len(a.units) for a in tables.directory.agencies)
        print(f"{count} units in {len(tables.directory.agencies)} agencies")
        files = read_document(profile)
        print(f"directory.yaml: {len(files['directory.yaml']) // 1024} KiB")
        results = [
            line(
                "load + validate the profile",
                timed(lambda: load_profile(profile, catalogue=catalogue), repeat),
            ),
            line(
                "full check (`ivr routing check`)",
                timed(lambda: _routing_problems(profile, REPO / "recordings"), max(3, repeat // 4)),
            ),
        ]
        parsed = parse_text(files["directory.yaml"])
        dispatch = parse_text(files["dispatch_items.yaml"])
        results.append(
            line(
                "editor load: parse + index the directory",
                timed(
                    lambda: DirectoryIndex(cold(parse_text)(files["directory.yaml"]), dispatch),
                    repeat,
                ),
            )
        )
        index = DirectoryIndex(parsed, dispatch)
        results.append(
            line(
                "search by name (第7機關第3科)",
                timed(lambda: index.search("第7機關第3科"), repeat),
                200,
            )
        )
        results.append(
            line(
                "search by duty (路燈 streetlights)",
                timed(lambda: index.search("路燈"), repeat),
                200,
            )
        )
        results.append(
            line("search by extension (30123)", timed(lambda: index.search("30123"), repeat), 200)
        )
        changed = dict(files)
        text = files["directory.yaml"]
        for n in range(30100, 30110):
            text = text.replace(f"'{n}'", f"'{n + 900000}'", 1)
        changed["directory.yaml"] = text
        changes = diff(files, changed)
        results.append(
            line(
                f"diff of two versions ({len(changes)} changes)",
                timed(lambda: cold(diff)(files, changed), repeat),
            )
        )

        store = await CaseStore.open(default_sqlite_url(work / "cases.sqlite3"))
        await store.migrate()

        def check(directory: Path) -> list[Any]:
            return _routing_problems(directory, REPO / "recordings")

        async def reload() -> ReloadOutcome:
            return ReloadOutcome(True)

        site = Site("taipei", profile, work / "run", check, reload)
        state = {"flip": False}

        async def one_publish() -> None:
            # Nothing parsed before: an admin's first edit of a draft just imported.
            parse_text.cache_clear()
            draft = await new_draft(store, site, by="bench", now=NOW)
            current = dict(draft.files)
            a, b = ("'30101'", "'39101'") if not state["flip"] else ("'39101'", "'30101'")
            state["flip"] = not state["flip"]
            current["directory.yaml"] = current["directory.yaml"].replace(a, b, 1)
            await edit_draft(store, draft.id, current, revision=1, by="bench", now=NOW)
            await publish(store, site, draft.id, by="bench", comment="bench", now=NOW)

        ms = await timed_async(one_publish, max(3, repeat // 4))
        results.append(line("publish (draft, edit, check, store, swap)", ms, 5000))
        await store.close()
        print("\n".join(results))
        print("reload of a running stack (Asterisk module reloads, engine SIGHUP) not included")
        print(f"load average while measuring: {os.getloadavg()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.units, args.repeat))
