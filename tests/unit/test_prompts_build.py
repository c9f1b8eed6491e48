"""`ivr prompts build`: TTS at 8 kHz, and a studio recording replacing the TTS file."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import pytest

from ivr import prompts

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="espeak-ng and sox come from Debian (make test installs them)",
)


def _recordings(tmp_path: Path) -> Path:
    rec = tmp_path / "recordings"
    rec.mkdir()
    (rec / prompts.CATALOGUE).write_text(
        "languages:\n"
        "  zh-TW: {name: 國語, voice: cmn-latn-pinyin}\n"
        "  nan: {name: 臺語}\n"
        "prompts:\n"
        "  greeting:\n"
        "    zh-TW: {text: 您好, tts: 您好}\n"
        "    nan: {text: 你好}\n",
        encoding="utf-8",
    )
    return rec


def test_tts_prompts_are_8khz_mono_and_voiceless_languages_are_skipped(tmp_path: Path) -> None:
    """Mandarin is synthesised for Asterisk; Taiwanese (no voice) waits for a recording."""
    built = prompts.build(_recordings(tmp_path), tmp_path / "sounds")
    greeting = [b for b in built if b.name == "greeting"]
    assert [(b.language, b.source) for b in greeting] == [("zh-TW", "tts")]
    with wave.open(str(greeting[0].path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert w.getnframes() > 0


def test_a_studio_recording_replaces_the_tts_file(tmp_path: Path) -> None:
    """A recording dropped in beside the catalogue is converted and used instead."""
    rec = _recordings(tmp_path)
    (rec / "nan").mkdir()
    studio = rec / "nan" / "greeting.wav"
    # A 44.1 kHz stereo "studio" file, as a recording booth would deliver it.
    subprocess.run(
        ["sox", "-n", "-r", "44100", "-c", "2", str(studio), "synth", "0.5", "sine", "440"],
        check=True,
    )
    built = prompts.build(rec, tmp_path / "sounds")
    nan = next(b for b in built if b.name == "greeting" and b.language == "nan")
    assert nan.source == "studio"
    with wave.open(str(nan.path)) as w:
        assert (w.getframerate(), w.getnchannels()) == (8000, 1)
        assert 3900 <= w.getnframes() <= 4100
    assert ("nan", "greeting") in prompts.buildable(rec)
