"""`ivr run` and `ivr init` keep the ports a stack was set up with unless told otherwise."""

from __future__ import annotations

from pathlib import Path

from ivr import cli
from ivr import config as stack_config
from ivr.config import Ports


def _init_then(state_dir: Path, first: list[str], then: list[str]) -> Ports:
    assert cli.main(["--state-dir", str(state_dir), "init", *first]) == 0
    # `ivr run` begins with the same step as `ivr init`, with its own flags.
    args = cli._parser().parse_args(["--state-dir", str(state_dir), *then])
    cli.cmd_init(args)
    return stack_config.load(state_dir).ports


def test_run_without_port_flags_keeps_the_ports_init_stored(tmp_path: Path) -> None:
    """A second stack set up beside a live one must not start on the live one's ports."""
    ports = _init_then(
        tmp_path,
        [
            *("--sip-port", "5070", "--ami-port", "5039", "--http-port", "8089"),
            *("--agi-port", "4574", "--rtp-start", "30000", "--rtp-end", "30199"),
        ],
        ["run"],
    )
    assert ports == Ports(5070, 5039, 8089, 4574, 30000, 30199)


def test_a_port_flag_given_to_run_changes_only_that_port(tmp_path: Path) -> None:
    ports = _init_then(
        tmp_path, ["--sip-port", "5070", "--agi-port", "4574"], ["run", "--ami-port", "5040"]
    )
    assert ports == Ports(sip=5070, ami=5040, agi=4574)


def test_a_new_stack_gets_the_standard_ports(tmp_path: Path) -> None:
    assert cli.main(["--state-dir", str(tmp_path), "init"]) == 0
    assert stack_config.load(tmp_path).ports == Ports()
