"""Every dialplan function we use has its module loaded.

modules.conf loads nothing by itself (`autoload = no`), and a function whose module
is missing fails quietly: `Set(DB(...)=...)` only logs a warning. That is how the
queued-callback marks never reached AstDB, so a restarted engine could not tell a
finished attempt from one that never ran.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Which module provides each function. A function missing here fails the test, so a
# new one is looked up once (`core show function NAME` names nothing; the Asterisk
# source tree's funcs/ and apps/ do).
FUNCTION_MODULES = {
    "CALLERID": "func_callerid.so",
    "CDR": "func_cdr.so",
    "CHANNEL": "func_channel.so",
    "DB": "func_db.so",
    "IF": "func_logic.so",
    "PJSIP_MEDIA_OFFER": "chan_pjsip.so",
    "QUEUE_MEMBER_LIST": "app_queue.so",
    "QUEUE_WAITING_COUNT": "app_queue.so",
    "TIMEOUT": "func_timeout.so",
}
# Functions the engine asks for through AGI or ARI rather than in a dialplan file.
ENGINE_FUNCTIONS = {"CHANNEL", "DB", "QUEUE_MEMBER_LIST", "QUEUE_WAITING_COUNT", "TIMEOUT"}
USE = re.compile(r"(?:\$\{|Set\()([A-Z][A-Z_]+)\(")


def _used_in_dialplans() -> set[str]:
    found: set[str] = set()
    for path in sorted((ROOT / "dialplans").glob("*.conf")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.lstrip().startswith(";"):
                found.update(USE.findall(line))
    return found


def _loaded() -> set[str]:
    text = (ROOT / "asterisk-conf" / "modules.conf").read_text(encoding="utf-8")
    return set(re.findall(r"^load\s*=>\s*(\S+)", text, re.MULTILINE))


def test_the_dialplans_use_known_functions() -> None:
    used = _used_in_dialplans()
    assert "DB" in used
    assert used - FUNCTION_MODULES.keys() == set()


def test_every_function_used_has_its_module_loaded() -> None:
    loaded = _loaded()
    needed = {FUNCTION_MODULES[f] for f in _used_in_dialplans() | ENGINE_FUNCTIONS}
    assert needed - loaded == set()
