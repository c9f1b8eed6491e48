"""`ivr X` loads only the module of command X; the map that says which module that is
must name every command each module registers, and nothing else."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from ivr import cli

REPO = Path(__file__).resolve().parents[2]


def _registered(module: str) -> set[str]:
    sub = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(module).register(sub)
    return set(sub.choices)


def test_the_map_names_every_command_of_every_module_and_nothing_else() -> None:
    for module in set(cli.COMMAND_MODULES.values()):
        mapped = {c for c, m in cli.COMMAND_MODULES.items() if m == module}
        assert _registered(module) == mapped, module


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["tickets", "list"], ["ivr.cli.tickets"]),
        (["--state-dir", "tickets", "cases", "list"], ["ivr.cases_cli"]),
        (["--log-level", "DEBUG", "--json", "serve"], ["ivr.cli.stack"]),
        (["--state-dir=/x", "routing", "check"], ["ivr.cli.routing"]),
    ],
)
def test_the_command_word_picks_its_module(words: list[str], expected: list[str]) -> None:
    assert cli._modules_for(words) == expected


@pytest.mark.parametrize("words", [[], ["--help"], ["-h", "tickets"], ["no-such-command"]])
def test_help_no_command_or_an_unknown_word_loads_every_module(words: list[str]) -> None:
    assert cli._modules_for(words) == list(dict.fromkeys(cli.COMMAND_MODULES.values()))


def _python_m_ivr(*words: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ivr", *words], capture_output=True, text=True, cwd=REPO, check=False
    )


def test_help_still_lists_every_command_and_an_unknown_one_is_refused() -> None:
    listed = _python_m_ivr("--help")
    assert listed.returncode == 0
    for command in cli.COMMAND_MODULES:
        assert command in listed.stdout
    unknown = _python_m_ivr("no-such-command")
    assert unknown.returncode == 2
    assert "invalid choice: 'no-such-command'" in unknown.stderr


def test_a_ticket_command_does_not_load_the_routing_tables_or_the_stack_commands() -> None:
    code = (
        "import sys\n"
        "from ivr import cli\n"
        "cli._parser(words=['tickets', 'list'])\n"
        "print(' '.join(m for m in ('ivr.routing.loader', 'ivr.phones_cli', 'ivr.users_cli')"
        " if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert out.stdout.strip() == ""
