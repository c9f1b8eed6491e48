"""`ivr routing versions|export|import|diff|publish|rollback` on a stack of its own.

A real state directory, SQLite case store and profile directory; no Asterisk or
engine runs, so the reload part of a publish says so (and the command exits 1).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ivr import cli
from ivr.routing.versions import read_document

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def stack(tmp_path: Path) -> tuple[Path, Path]:
    profile = tmp_path / "profiles" / "taipei"
    shutil.copytree(REPO / "routing" / "taipei", profile)
    state = tmp_path / "state"
    assert cli.main(["--state-dir", str(state), "init", "--profile", str(profile)]) == 0
    return state, profile


def run(state: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = cli.main(["--state-dir", str(state), "routing", *argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def test_export_edit_import_publish_diff_rollback(
    stack: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, profile = stack
    original = read_document(profile)
    code, listed = run(state, capsys, "versions")
    assert code == 0
    assert (listed["running"], listed["disk_matches"]) == (1, True)

    work = tmp_path / "work"
    code, _ = run(state, capsys, "export", "1", str(work))
    assert code == 0
    assert read_document(work) == original
    directory = work / "directory.yaml"
    directory.write_text(
        directory.read_text(encoding="utf-8").replace('"2501"', '"2502"'), encoding="utf-8"
    )
    code, imported = run(state, capsys, "import", str(work))
    assert code == 0
    draft = imported["draft"]["id"]
    # Saved although it cannot be published: the checker's text says why, at the field.
    [problem] = imported["problems"]
    assert problem["file"] == "directory.yaml"
    assert "extension 2502 is already unit hydraulic's" in problem["reason"]

    code, refused = run(state, capsys, "publish", str(draft), "--comment", "typo")
    assert code == 1
    assert refused["refused"][0]["reason"] == problem["reason"]
    assert read_document(profile) == original

    directory.write_text(
        directory.read_text(encoding="utf-8").replace('"2502"}', '"2509"}', 1), encoding="utf-8"
    )
    code, fixed = run(state, capsys, "import", str(work))
    assert fixed["problems"] == []
    code, published = run(
        state, capsys, "publish", f"draft:{fixed['draft']['id']}", "--comment", "new number"
    )
    # Published; the reload's own verdict is that no engine runs here to take it.
    assert published["version"]["number"] == 2
    assert any("engine is not running" in line for line in published["reload"]["lines"])
    assert '"2509"' in read_document(profile)["directory.yaml"]

    code, changes = run(state, capsys, "diff", "1", "2")
    assert code == 0
    assert [c["text"] for c in changes["changes"]] == [
        'directory.yaml: agencies[pwd].units[hydraulic].primary.number: "2501" → "2509"'
    ]
    code, back = run(state, capsys, "rollback", "1", "--comment", "wrong unit", "--expect", "2")
    assert back["version"]["number"] == 3
    assert back["version"]["rollback_of"] == 1
    assert read_document(profile) == original
    code, listed = run(state, capsys, "versions")
    assert [v["number"] for v in listed["versions"]] == [3, 2, 1]
    assert listed["disk_matches"] is True


def test_a_stale_rollback_and_a_missing_comment_are_refused_plainly(
    stack: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    state, _ = stack
    code, answer = run(state, capsys, "rollback", "1", "--comment", "x", "--expect", "7")
    assert code == 1
    assert answer["kind"] == "StaleVersion"
    code, answer = run(state, capsys, "rollback", "1", "--comment", "   ")
    assert code == 1
    assert "comment is required" in answer["error"]
