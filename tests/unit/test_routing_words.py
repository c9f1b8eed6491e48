"""Every word the routing pages use exists in both interface languages."""

from __future__ import annotations

import re
from pathlib import Path

from ivr.web.routing_words import keys, routing_translator

TEMPLATES = Path(__file__).resolve().parents[2] / "ivr" / "web" / "templates"


def test_every_key_has_both_languages() -> None:
    zh, en = routing_translator("zh-TW"), routing_translator("en")
    for key in keys():
        assert zh(key, n=1, id=1, base=1, rev=1, a=1, b=1, q="x", unit="u", name="n").strip()
        assert en(key, n=1, id=1, base=1, rev=1, a=1, b=1, q="x", unit="u", name="n").strip()


def test_every_word_a_routing_template_uses_exists() -> None:
    used = set()
    for template in TEMPLATES.glob("routing*.html"):
        used |= set(re.findall(r'\bw\("([a-z_]+)"', template.read_text(encoding="utf-8")))
    assert used
    assert used <= set(keys())
