"""`ivr cases …` end to end on a stack's own SQLite store: masking, audit, the password."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr import cli


@pytest.fixture
def stack(tmp_path: Path) -> list[str]:
    state = tmp_path / "stack"
    assert cli.main(["--state-dir", str(state), "init"]) == 0
    return ["--state-dir", str(state)]


def run(stack: list[str], capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main([*stack, *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_petition_password_is_told_once_and_data_masked_unless_unmasked_with_reason(
    stack: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        stack, capsys, "cases", "new", "--kind", "petition", "--agency", "pwd",
        "--summary", "王小明反映路燈不亮 電話0912345678", "--caller", "0912345678",
        "--name", "王小明",
    )  # fmt: skip
    assert code == 0
    number = re.search(r"case (\d{8})", out)
    password = re.search(r"password (\d{6})", out)
    assert number is not None
    assert password is not None
    code, shown, _ = run(stack, capsys, "cases", "show", number[1])
    assert code == 0
    assert "0912345678" not in shown
    assert "小明" not in shown
    assert password[1] not in shown
    code, as_json, _ = run(stack, capsys, "cases", "show", number[1], "--json", "--unmask",
                           "--reason", "法定職務 主管同意")  # fmt: skip
    data = json.loads(as_json)
    assert data["caller_number"] == "0912345678"
    assert data["caller_name"] == "王小明"
    assert "password_hash" not in data
    assert password[1] not in as_json
    code, _, err = run(stack, capsys, "cases", "show", number[1], "--unmask")
    assert code == 1
    assert "--reason" in err
    code, audit, _ = run(stack, capsys, "audit", "list", "--subject", "case:", "--json")
    rows = json.loads(audit)
    assert [(r["action"], r["subject"]) for r in rows] == [
        ("view", f"case:{number[1]}"),
        ("unmask", f"case:{number[1]}"),
    ]
    assert rows[1]["reason"] == "法定職務 主管同意"


def test_a_wrong_digit_in_a_case_number_is_refused_not_guessed(
    stack: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    run(stack, capsys, "cases", "new", "--kind", "consultation", "--agency", "pwd",
        "--summary", "問路")  # fmt: skip
    code, _, err = run(stack, capsys, "cases", "show", "00000014")
    assert code == 1
    assert "check digit" in err


def test_import_names_the_bad_line_and_imports_nothing(
    stack: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    paper = tmp_path / "paper.csv"
    paper.write_text(
        "received_at,kind,agency,summary\n"
        "2026-06-01T09:00,petition,pwd,路燈不亮\n"
        "2026-06-01T09:10,petition,nosuch,路燈不亮\n",
        encoding="utf-8",
    )
    code, _, err = run(stack, capsys, "cases", "import", str(paper))
    assert code == 1
    assert "line 3: no agency 'nosuch'" in err
    code, out, _ = run(stack, capsys, "cases", "list", "--json")
    assert json.loads(out) == []


def test_report_cases_writes_csv_and_json(
    stack: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(stack, capsys, "cases", "new", "--kind", "dispatch", "--item", "1",
        "--address", "臺北市信義區信義路五段7號", "--summary", "坑洞")  # fmt: skip
    [case] = json.loads(run(stack, capsys, "cases", "list", "--json")[1])
    received = datetime.fromisoformat(case["created_at"]).astimezone(ZoneInfo("Asia/Taipei"))
    month = ["", f"{received:%Y-%m}"]
    csv_path, json_path = tmp_path / "r.csv", tmp_path / "r.json"
    code, out, _ = run(stack, capsys, "report", "cases", "--month", month[1],
                       "--csv", str(csv_path), "--json", str(json_path))  # fmt: skip
    assert code == 0
    assert "dispatch" in out
    assert csv_path.read_text(encoding="utf-8").splitlines()[0].startswith("service,agency_id")
    assert json.loads(json_path.read_text(encoding="utf-8"))["total"]["cases"] == 1
