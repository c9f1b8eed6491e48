"""A name with a ";" reaches a real Asterisk whole, as one caller id (issue 13).

The schema refuses quotes and line breaks in names; a ";" is allowed, and Asterisk's
config parser would read it as the start of a comment. The renderer escapes it, and
here a real Asterisk, started on the generated config, shows the name unchanged.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ivr.asterisk import install, process
from tests.harness import asterisk_stack

pytestmark = pytest.mark.asterisk

ROOT = Path(__file__).resolve().parents[2]
NAME = "陳;淑芬 (夜班; 英語)"


def test_a_semicolon_in_an_agent_name_reaches_asterisk_whole(tmp_path: Path) -> None:
    profile = tmp_path / "taipei"
    shutil.copytree(ROOT / "routing" / "taipei", profile)
    agents = profile / "agents.yaml"
    text = agents.read_text(encoding="utf-8")
    assert text.count("name: 陳淑芬,") == 1
    agents.write_text(text.replace("name: 陳淑芬,", f'name: "{NAME}",'), encoding="utf-8")
    with asterisk_stack(tmp_path / "stack", profile=profile) as cfg:
        shown = process.rx(install.ensure(), cfg, "pjsip show endpoint 7001")
        endpoints = process.rx(install.ensure(), cfg, "pjsip show endpoints")
    callerid = [line.strip() for line in shown.splitlines() if line.strip().startswith("callerid ")]
    assert callerid == [f'callerid                           : "{NAME}" <7001>'], shown
    # Exactly the endpoints the tables define: the name opened no section of its own.
    expected = sum(
        len(re.findall(r"^type\s*=\s*endpoint\s*$", (cfg.etc_dir / f).read_text("utf-8"), re.M))
        for f in ("pjsip.conf", "pjsip_hotline.conf")
    )
    found = re.search(r"Objects found: (\d+)", endpoints)
    assert found is not None, endpoints
    assert int(found[1]) == expected, endpoints
