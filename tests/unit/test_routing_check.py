"""`ivr routing check`: tables, catalogue texts and audio files, checked without mocks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivr.prompts import Catalogue, load_catalogue
from ivr.routing.check import (
    audio_for,
    available_audio,
    check,
    check_profile,
    load_checked,
)
from ivr.routing.loader import Problem, RoutingError, load_profile
from ivr.routing.tables import RoutingTables

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "routing"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "recordings")


def full_build(catalogue: Catalogue, tables: RoutingTables) -> frozenset[tuple[str, str]]:
    """The audio files `ivr prompts build` gives for the profile's enabled languages."""
    return audio_for(catalogue, set(tables.profile.enabled_languages))


def without_text(catalogue: Catalogue, prompt: str, language: str) -> Catalogue:
    """The catalogue with one prompt's text in one language taken out."""
    texts = {k: v for k, v in catalogue.prompts[prompt].items() if k != language}
    return Catalogue(languages=catalogue.languages, prompts={**catalogue.prompts, prompt: texts})


def edited(tmp_path: Path, profile: str, file: str, old: str, new: str) -> Path:
    """A copy of a shipped profile with one text edit, matching exactly once."""
    target = tmp_path / profile
    shutil.copytree(SHIPPED / profile, target)
    text = (target / file).read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in routing/{profile}/{file}"
    (target / file).write_text(text.replace(old, new), encoding="utf-8")
    return target


@pytest.mark.parametrize("profile", ["taipei", "kinmen"])
def test_shipped_profile_passes_the_whole_check(profile: str, catalogue: Catalogue) -> None:
    """With every prompt built, a shipped profile has no problem at all."""
    tables = load_profile(SHIPPED / profile, catalogue=catalogue)
    assert check(tables, catalogue, full_build(catalogue, tables)) == []


def test_missing_audio_file_is_named_by_the_field_that_plays_it(catalogue: Catalogue) -> None:
    """A prompt with text but no built file is reported where the table names it."""
    tables = load_profile(SHIPPED / "taipei", catalogue=catalogue)
    audio = full_build(catalogue, tables) - {("en", "taipei-main-menu")}
    assert check(tables, catalogue, audio) == [
        Problem(
            str(SHIPPED / "taipei" / "menus.yaml"),
            "menus.main.prompt",
            "prompt 'taipei-main-menu' has no audio file in en: run `ivr prompts build`, or "
            "add a studio recording recordings/<language>/taipei-main-menu.wav",
        )
    ]


def test_no_audio_at_all_reports_every_prompt_in_every_enabled_language(
    catalogue: Catalogue,
) -> None:
    """Before `ivr prompts build`, each prompt reference is reported once, both languages named."""
    tables = load_profile(SHIPPED / "kinmen", catalogue=catalogue)
    problems = check(tables, catalogue, frozenset())
    assert problems
    assert all("has no audio file in zh-TW, en" in p.reason for p in problems)
    assert ("hours.yaml", "closed.prompt") in {(Path(p.file).name, p.path) for p in problems}


def test_enabled_language_missing_a_catalogue_text_fails(catalogue: Catalogue) -> None:
    """A prompt without an en text fails while en is enabled, and no audio is asked of it."""
    tables = load_profile(SHIPPED / "kinmen", catalogue=catalogue)
    thinner = without_text(catalogue, "kinmen-disaster-notice", "en")
    problems = check(tables, thinner, full_build(catalogue, tables))
    assert problems == [
        Problem(
            str(SHIPPED / "kinmen" / "hours.yaml"),
            "disaster.announcement",
            "prompt 'kinmen-disaster-notice' has no en text in the prompt catalogue, and every "
            "enabled language needs one",
        )
    ]


def test_prompt_absent_from_the_catalogue_fails(tmp_path: Path, catalogue: Catalogue) -> None:
    """A table naming a prompt nobody wrote is refused, pointing at the field."""
    directory = edited(
        tmp_path, "taipei", "hours.yaml", "taipei-disaster-notice", "taipei-typhoon-notice"
    )
    problems = check_profile(directory, catalogue, frozenset())
    assert (
        Problem(
            str(directory / "hours.yaml"),
            "disaster.announcement",
            "prompt 'taipei-typhoon-notice' is not in the prompt catalogue",
        )
        in problems
    )


def test_enabling_taiwanese_before_its_recordings_exist_fails(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    """nan enabled with no nan prompts: the check refuses and says which prompts lack it."""
    directory = edited(
        tmp_path,
        "taipei",
        "profile.yaml",
        '    key: "5"\n    enabled: false',
        '    key: "5"\n    enabled: true',
    )
    problems = check_profile(directory, catalogue, audio_for(catalogue, {"zh-TW", "en"}))
    reasons = [p.reason for p in problems]
    assert "nan is enabled but the prompt catalogue declares no such language" in reasons
    assert any("'taipei-language-menu' has no nan text" in r for r in reasons)


def test_check_profile_reports_loader_problems_of_a_broken_directory(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    """A profile the loader refuses gives the loader's problems, not an exception."""
    directory = edited(
        tmp_path,
        "kinmen",
        "menus.yaml",
        "{type: queue, queue: dispatch}",
        "{type: queue, queue: works}",
    )
    assert check_profile(directory, catalogue, frozenset()) == [
        Problem(
            str(directory / "menus.yaml"),
            'menus.main.options["2"].queue',
            "no queue 'works' in agents.yaml",
        )
    ]


def test_load_checked_returns_tables_or_raises_with_every_problem(catalogue: Catalogue) -> None:
    """load_checked is the holder's strict validator: all or nothing."""
    tables = load_profile(SHIPPED / "taipei")
    audio = full_build(catalogue, tables)
    assert load_checked(SHIPPED / "taipei", catalogue, audio).profile.name == "taipei"
    with pytest.raises(RoutingError) as refused:
        load_checked(SHIPPED / "taipei", catalogue, audio - {("zh-TW", "greeting")})
    assert [p.path for p in refused.value.problems] == ["greeting"]


def test_available_audio_reads_language_folders_of_wav_files(tmp_path: Path) -> None:
    """sounds/<language>/<prompt>.wav files become (language, prompt) pairs."""
    (tmp_path / "zh-TW").mkdir()
    (tmp_path / "zh-TW" / "greeting.wav").write_bytes(b"RIFF")
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "greeting.wav").write_bytes(b"RIFF")
    (tmp_path / "en" / "notes.txt").write_text("not audio", encoding="utf-8")
    (tmp_path / "moh").mkdir()
    assert available_audio(tmp_path) == {("zh-TW", "greeting"), ("en", "greeting")}
    assert available_audio(tmp_path / "absent") == frozenset()


def test_audio_for_covers_only_the_languages_asked(catalogue: Catalogue) -> None:
    """A complete build in zh-TW alone has no English files."""
    audio = audio_for(catalogue, {"zh-TW"})
    assert ("zh-TW", "greeting") in audio
    assert not any(lang == "en" for lang, _ in audio)
