"""A queue renamed while menus and other queues name it: what the refusal lists. Each
place that refers to the old id, with what `ivr routing check` says of it once renamed,
on the shipped Taipei profile and the real checker."""

from __future__ import annotations

from pathlib import Path

import yaml

from ivr.cli.routing import routing_problems
from ivr.routing.publish import FieldProblem, ReloadOutcome, Site, check_files
from ivr.routing.references import Reference, references
from ivr.routing.versions import read_document
from ivr.routing.yaml_rows import replace_entry
from ivr.web.routing_rename import lines, summary

REPO = Path(__file__).parents[2]


def _site(tmp_path: Path) -> Site:
    async def reload() -> ReloadOutcome:  # never called: only the check runs
        raise AssertionError

    return Site(
        "taipei",
        REPO / "routing" / "taipei",
        tmp_path,
        lambda d: routing_problems(d, REPO / "recordings"),
        reload,
    )


def test_each_place_that_names_the_queue_is_listed_with_the_checkers_words(
    tmp_path: Path,
) -> None:
    files = read_document(REPO / "routing" / "taipei")
    text = files["agents.yaml"]
    general = yaml.safe_load(text)["queues"][0]
    renamed = replace_entry(text, ["queues"], 0, {**general, "id": "consult"})
    site = _site(tmp_path)
    before = set(check_files(site, files))
    made = [p for p in check_files(site, {**files, "agents.yaml": renamed}) if p not in before]
    refs = references(files, "queue", "general")
    found = lines(refs, made)
    assert len(found) == len(refs) == 5
    assert (
        'menus.yaml: menus.main.options["1"]: sends callers to queue general '
        '(ivr routing check: menus.main.options["1"].queue: '
        "no queue 'general' in agents.yaml)"
    ) in found
    assert (
        "agents.yaml: queues[4]: queue taiwanese offers queue general to callers on key 3 "
        "(ivr routing check: queues[4].other_language_queue: "
        "no queue 'general' in agents.yaml)"
    ) in found


def test_what_the_checker_finds_that_no_reference_names_is_listed_too() -> None:
    ref = Reference("menus.yaml", "menus.main.on_exhausted", "sends callers to queue q")
    made = [
        FieldProblem("menus.yaml", "menus.main.on_exhausted.queue", "no queue 'q'"),
        FieldProblem("hours.yaml", "video.queue", "no queue 'q'"),
    ]
    assert lines([ref], made) == [
        "menus.yaml: menus.main.on_exhausted: sends callers to queue q "
        "(ivr routing check: menus.main.on_exhausted.queue: no queue 'q')",
        "hours.yaml: video.queue: no queue 'q'",
    ]
    # A console account is no table field: listed as it is, with no checker's words.
    account = Reference("console users", "amy", "console account amy is agent a02")
    assert lines([account], []) == ["console users: amy: console account amy is agent a02"]


def test_the_refusal_says_what_to_do_instead() -> None:
    said = summary("queue", "general", "consult", 5)
    assert said.startswith("queue general cannot be renamed to consult: 5 place(s)")
    assert "nothing was saved" in said
    assert "add queue consult beside general" in said
    assert "add agent a09 beside it" in summary("agent", "a02", "a09", 1)
