"""The prompt catalogue and `ivr prompts build`: 8 kHz audio Asterisk plays as is.

espeak-ng speaks the catalogue text; a studio recording dropped in beside the
catalogue (recordings/<language>/<prompt>.wav) replaces the synthetic voice.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ivr.errors import HotlineError

CATALOGUE = "catalogue.yaml"
# A short silence the engine listens over when it collects more digits (GET DATA
# needs a file to play); generated for every language, not written in the catalogue.
SILENCE = "silence"
# Two short beeps before each call-cap prompt (ivr.domain.call_cap), in every language.
CAP_TONE = "cap-tone"
# 8 kHz mono 16-bit with headroom: Asterisk's native telephone format, no clipping.
SOX_FORMAT = ["-r", "8000", "-c", "1", "-b", "16"]


class PromptError(HotlineError):
    """The catalogue is invalid or a prompt could not be built."""

    code = "prompts.failed"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Language(_Strict):
    name: str
    # None: no synthetic voice exists (Taiwanese, Hakka): studio recordings only.
    voice: str | None = None


class PromptText(_Strict):
    text: str
    tts: str | None = None


class Catalogue(_Strict):
    languages: dict[str, Language]
    prompts: dict[str, dict[str, PromptText]]
    # The prompts the engine plays by itself (the tables name the rest): data, so that
    # `ivr routing check` needs no part of the engine to know them.
    engine: tuple[str, ...] = ()


_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_catalogue(recordings_dir: Path) -> Catalogue:
    path = recordings_dir / CATALOGUE
    try:
        # libyaml when PyYAML has it: the same safe constructors, read several times faster.
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)
        return Catalogue.model_validate(raw)
    except FileNotFoundError as exc:
        raise PromptError(f"{path}: prompt catalogue not found") from exc
    except yaml.YAMLError as exc:
        raise PromptError(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PromptError(f"{path}: {where}: {first['msg']}") from exc


@dataclass(frozen=True)
class BuiltPrompt:
    name: str
    language: str
    path: Path
    source: str  # "studio" or "tts"


def prompt_path(sounds_dir: Path, language: str, name: str) -> Path:
    """Where Asterisk finds a prompt: pass it without the .wav suffix."""
    return sounds_dir / language / name


def build(recordings_dir: Path, sounds_dir: Path, *, force: bool = False) -> list[BuiltPrompt]:
    """Build every prompt in every language that has a voice or a recording."""
    catalogue = load_catalogue(recordings_dir)
    for tool in ("sox", "espeak-ng"):
        if shutil.which(tool) is None:
            raise PromptError(f"{tool} is missing: apt-get install {tool}")
    built: list[BuiltPrompt] = []
    for name, texts in sorted(catalogue.prompts.items()):
        for language, text in sorted(texts.items()):
            lang = catalogue.languages.get(language)
            if lang is None:
                raise PromptError(
                    f"{recordings_dir / CATALOGUE}: prompts.{name}.{language}: "
                    "language not declared under `languages`"
                )
            target = prompt_path(sounds_dir, language, name).with_suffix(".wav")
            studio = recordings_dir / language / f"{name}.wav"
            source = "studio" if studio.exists() else "tts"
            if source == "tts" and lang.voice is None:
                continue
            fresh = target.exists() and target.stat().st_mtime >= _newest(
                recordings_dir / CATALOGUE, studio
            )
            if fresh and not force:
                built.append(BuiltPrompt(name, language, target, source))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if source == "studio":
                _convert(studio, target)
            else:
                assert lang.voice is not None
                _speak(lang.voice, text.tts or text.text, target)
            built.append(BuiltPrompt(name, language, target, source))
    _build_hold_music(sounds_dir / "moh" / "hold.wav")
    for language in catalogue.languages:
        target = prompt_path(sounds_dir, language, SILENCE).with_suffix(".wav")
        _build_silence(target)
        built.append(BuiltPrompt(SILENCE, language, target, "generated"))
        tone = prompt_path(sounds_dir, language, CAP_TONE).with_suffix(".wav")
        _build_tone(tone)
        built.append(BuiltPrompt(CAP_TONE, language, tone, "generated"))
    return built


def _newest(*paths: Path) -> float:
    return max((p.stat().st_mtime for p in paths if p.exists()), default=0.0)


def _speak(voice: str, text: str, target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        _run(["espeak-ng", "-v", voice, "-w", str(raw), text], target)
        _convert(raw, target)


def _convert(source: Path, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp.wav")
    _run(["sox", str(source), *SOX_FORMAT, str(tmp), "gain", "-n", "-3"], target)
    tmp.replace(target)


def _build_silence(target: Path) -> None:
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp.wav")
    _run(["sox", "-n", *SOX_FORMAT, str(tmp), "trim", "0", "0.2"], target)
    tmp.replace(target)


def _build_tone(target: Path) -> None:
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp.wav")
    # 1 kHz, 0.2 s on, 0.15 s off, twice: heard over speech, not mistaken for a ring.
    synth = ["synth", "0.2", "sine", "1000", "pad", "0", "0.15", "repeat", "1"]
    _run(["sox", "-n", *SOX_FORMAT, str(tmp), *synth, "gain", "-n", "-6"], target)
    tmp.replace(target)


def _build_hold_music(target: Path) -> None:
    """A soft two-tone chime: Debian ships no hold music, and silence sounds dead."""
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp.wav")
    _run(
        [
            "sox",
            "-n",
            *SOX_FORMAT,
            str(tmp),
            "synth",
            "0.6",
            "sine",
            "523",
            "sine",
            "659",
            "fade",
            "0.05",
            "0.6",
            "0.3",
            "pad",
            "0",
            "1.4",
            "repeat",
            "14",
            "gain",
            "-n",
            "-18",
        ],
        target,
    )
    tmp.replace(target)


def _run(cmd: list[str], target: Path) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise PromptError(f"building {target} failed: {' '.join(cmd[:2])}: {proc.stderr.strip()}")


def buildable(
    recordings_dir: Path, catalogue: Catalogue | None = None
) -> frozenset[tuple[str, str]]:
    """(language, prompt) pairs a build can produce: a synthetic voice or a recording."""
    catalogue = catalogue or load_catalogue(recordings_dir)
    found: set[tuple[str, str]] = set()
    for name, texts in catalogue.prompts.items():
        for language in texts:
            lang = catalogue.languages.get(language)
            studio = recordings_dir / language / f"{name}.wav"
            if studio.exists() or (lang is not None and lang.voice is not None):
                found.add((language, name))
    found.update((language, SILENCE) for language in catalogue.languages)
    found.update((language, CAP_TONE) for language in catalogue.languages)
    return frozenset(found)
