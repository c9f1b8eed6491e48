"""The shape the call flow keeps: a domain that imports nothing, prompts as data, small files."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from ivr.adapters.agi.agent import AGENT_PROMPTS
from ivr.domain.callback_promise import PROMISE_PROMPTS
from ivr.prompts import CAP_TONE, SILENCE, load_catalogue

REPO = Path(__file__).resolve().parents[2]
MAX_LINES = 500


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_domain_imports_nothing_of_the_project_but_itself() -> None:
    """Menus, tickets, transfers: pure rules, readable and testable alone."""
    outside = {
        f"{path.relative_to(REPO)}: {module}"
        for path in sorted((REPO / "ivr" / "domain").rglob("*.py"))
        for module in _imports(path)
        if module.startswith("ivr.")
        and not module.startswith("ivr.domain")
        # the one leaf the domain may use: the error base class, which imports nothing
        and module != "ivr.errors"
    }
    assert outside == set()


def test_routing_check_loads_no_part_of_the_engine() -> None:
    """`ivr routing check` knows the engine's prompts from the catalogue, not the handlers."""
    code = (
        "import sys, ivr.routing.engine_prompts, ivr.routing.check;"
        "print(sorted(m for m in sys.modules if m.startswith(('ivr.flow', 'ivr.adapters'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == "[]"


def test_the_engine_prompt_list_names_what_the_engine_composes() -> None:
    """The callback promise and the agents' feature codes are played by the engine."""
    catalogue = load_catalogue(REPO / "recordings")
    engine = set(catalogue.engine)
    assert set(PROMISE_PROMPTS) <= engine
    assert set(AGENT_PROMPTS) <= engine
    assert len(engine) == len(catalogue.engine), "a prompt is listed twice"
    # Each has words to speak (silence and the call cap's tone are generated, not spoken).
    assert {p for p in engine if p not in catalogue.prompts} == {SILENCE, CAP_TONE}


def test_call_flow_files_stay_small() -> None:
    """One step or destination per module: none grows past 500 lines."""
    files = [
        *(REPO / "ivr" / "flow").glob("*.py"),
        *(REPO / "ivr" / "adapters" / "agi").glob("*.py"),
    ]
    long = {
        str(p.relative_to(REPO)): n
        for p in files
        if (n := len(p.read_text(encoding="utf-8").splitlines())) >= MAX_LINES
    }
    assert files
    assert long == {}


def test_routing_check_reports_an_engine_prompt_without_audio() -> None:
    """A prompt in the `engine` list with no audio in an enabled language is a problem."""
    from ivr.routing.engine_prompts import engine_prompt_problems
    from ivr.routing.loader import load_profile

    catalogue = load_catalogue(REPO / "recordings")
    tables = load_profile(REPO / "routing" / "kinmen")
    languages = tables.profile.enabled_languages
    every = {(lang, name) for name in catalogue.engine for lang in languages}
    assert engine_prompt_problems(tables, every, catalogue) == []
    missing = every - {(languages[0], "survey-thanks")}
    [problem] = engine_prompt_problems(tables, missing, catalogue)
    assert f"prompts.survey-thanks.{languages[0]}" in str(problem)
