"""The engine command `ivr supervise` runs is one the CLI takes, as the operator asked;
every command that starts an engine takes `--no-console`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ivr import cli
from ivr.cli.stack import cmd_serve
from ivr.config import StackConfig
from ivr.supervisor import Supervisor


@pytest.mark.parametrize("console", [True, False])
def test_the_supervised_engine_is_served_with_or_without_its_console(
    tmp_path: Path, console: bool
) -> None:
    cfg = StackConfig(state_dir=tmp_path)
    command = Supervisor(cfg, None, log_level="DEBUG", console=console).engine_command()
    assert command[:3] == [sys.executable, "-m", "ivr"]
    words = command[3:]
    args = cli._parser(words=words).parse_args(words)
    assert args.func is cmd_serve
    assert args.state_dir == str(tmp_path)
    assert args.log_level == "DEBUG"
    assert args.no_console is not console


@pytest.mark.parametrize("command", ["serve", "supervise", "run"])
def test_every_command_that_starts_an_engine_takes_no_console(command: str) -> None:
    # Each of these commands' functions reads `args.no_console`.
    parser = cli._parser(words=[command])
    assert parser.parse_args([command]).no_console is False
    assert parser.parse_args([command, "--no-console"]).no_console is True
