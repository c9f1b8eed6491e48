"""`ivr` shows every expected failure one way: a line for a person, or JSON with --json.

Each failure exits with its documented status (docs/cli.md, `ivr --help`) and never
shows a traceback. The store is real (SQLite), and "down" is a PostgreSQL URL on a port
where nothing listens.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

import ivr
from ivr import cli
from ivr import config as stack_config
from ivr import logging as ivr_logging
from ivr.errors import ExitStatus, HotlineError


@pytest.fixture(autouse=True)
def _logging_restored() -> Any:
    yield
    # cli.main points logging at this test's captured stderr, which closes with the test.
    ivr_logging.configure(stream=sys.__stderr__)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def error_of(err: str) -> dict[str, Any]:
    """The one JSON object an error prints on stderr (log lines before it aside)."""
    body: dict[str, Any] = json.loads(err.strip().splitlines()[-1])
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return dict(body["error"])


def test_a_missing_routing_directory_is_refused_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-profile"
    code, out, err = run(capsys, "routing", "check", str(missing), "--json")
    assert code == ExitStatus.FAILURE
    assert out == ""
    error = error_of(err)
    assert error["code"] == "routing.refused"
    assert error["message"].endswith("the table is refused")
    [problem] = error["details"]["problems"]
    assert problem["file"] == str(missing)
    assert "Traceback" not in err


def test_a_missing_routing_directory_is_a_line_for_a_person(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-profile"
    code, _, err = run(capsys, "routing", "check", str(missing))
    assert code == ExitStatus.FAILURE
    lines = err.strip().splitlines()
    assert lines[-2].startswith(f"{missing}: ")
    assert lines[-1] == f"ivr: {missing}: 1 problem(s); the table is refused"


def test_an_unknown_ticket_is_not_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    stack_config.init(state)
    code, out, err = run(capsys, "--state-dir", str(state), "tickets", "show", "99999999", "--json")
    assert code == ExitStatus.NOT_FOUND == 3
    assert out == ""
    error = error_of(err)
    assert error["code"] == "ticket.not_found"
    assert error["details"] == {"ticket": "99999999"}
    # The same failure for a person: one line, same status; `ivr --json` before the
    # command asks for JSON from a command that has no --json of its own.
    code, _, err = run(capsys, "--state-dir", str(state), "tickets", "assign", "nope", "x")
    assert code == 3
    assert err.strip().splitlines()[-1].startswith("ivr: no ticket 'nope'")
    code, _, err = run(
        capsys, "--json", "--state-dir", str(state), "tickets", "assign", "nope", "x"
    )
    assert code == 3
    assert error_of(err)["code"] == "ticket.not_found"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_a_store_that_is_down_is_unavailable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    url = f"postgresql+asyncpg://hotline:x@127.0.0.1:{_closed_port()}/hotline"
    stack_config.init(state, None, url)
    code, out, err = run(capsys, "--state-dir", str(state), "tickets", "list", "--json")
    assert code == ExitStatus.UNAVAILABLE == 5
    assert out == ""
    assert error_of(err)["code"] == "store.unavailable"
    code, _, err = run(capsys, "--state-dir", str(state), "calls", "list")
    assert code == 5
    assert err.strip().splitlines()[-1].startswith("ivr: case store ")
    assert "Traceback" not in err


def test_unmasking_without_a_reason_is_refused_before_the_store_is_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    stack_config.init(state)
    code, _, err = run(
        capsys, "--state-dir", str(state), "calls", "show", "1", "--unmask", "--json"
    )
    assert code == ExitStatus.REFUSED == 4
    assert error_of(err)["code"] == "privacy.unmask_refused"


def test_a_usage_error_is_status_2_and_json_with_json(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["tickets", "list", "--limit", "0", "--json"])
    assert exited.value.code == ExitStatus.USAGE == 2
    error = error_of(capsys.readouterr().err)
    assert error["code"] == "usage"
    assert "--limit" in error["message"]


def test_help_lists_the_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for status in ExitStatus:
        assert f"\n  {int(status)}  " in out


def _exception_classes() -> list[type[BaseException]]:
    found: list[type[BaseException]] = []
    for info in pkgutil.walk_packages(ivr.__path__, "ivr."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == info.name:
                found.append(obj)
    return found


# Owned by the store's own restructuring; the CLI adopts them meanwhile
# (`ivr.cli.errors.adopt`), so they still show as codes and statuses.
NOT_YET: set[str] = set()


def test_every_error_class_derives_from_the_one_base_with_its_own_code() -> None:
    classes = _exception_classes()
    assert len(classes) > 20
    strays = [
        f"{c.__module__}.{c.__qualname__}"
        for c in classes
        if not issubclass(c, HotlineError)
        and f"{c.__module__}.{c.__qualname__}" not in NOT_YET
        and not c.__qualname__.startswith("_")
    ]
    assert strays == []
    codes: dict[str, str] = {}
    for c in classes:
        if issubclass(c, HotlineError) and c is not HotlineError:
            assert c.code == c.code.lower(), c
            owner = codes.setdefault(c.code, c.__qualname__)
            # A code names one kind of failure; the generic bases are shared on purpose.
            assert owner == c.__qualname__ or c.code in {"not_found", "refused", "unavailable"}, (
                c,
                owner,
            )
