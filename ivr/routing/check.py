"""`ivr routing check`: everything the loader proves, plus the prompts' audio files.

`check` is pure: it takes the tables, the prompt catalogue and the set of audio
files that exist, as (language, prompt) pairs. `available_audio` is the one function
here that looks at the disk.
"""

from __future__ import annotations

from collections.abc import Set
from pathlib import Path

from ivr.prompts import Catalogue
from ivr.routing.loader import (
    Problem,
    RoutingError,
    catalogue_problems,
    load_profile,
    prompt_refs,
    table_problems,
)
from ivr.routing.tables import RoutingTables

# (language, prompt name): one built or recorded audio file.
AudioFile = tuple[str, str]


def check(tables: RoutingTables, catalogue: Catalogue, available: Set[AudioFile]) -> list[Problem]:
    """Every problem with a loaded profile; an empty list means it may go live."""
    problems = table_problems(tables) + catalogue_problems(tables, catalogue)
    enabled = tables.profile.enabled_languages
    for ref in prompt_refs(tables):
        texts = catalogue.prompts.get(ref.prompt, {})
        # A prompt with no text is reported once, above; no audio can exist for it.
        missing = [
            lang for lang in enabled if lang in texts and (lang, ref.prompt) not in available
        ]
        if missing:
            problems.append(
                Problem(
                    ref.file,
                    ref.path,
                    f"prompt {ref.prompt!r} has no audio file in {', '.join(missing)}: run "
                    "`ivr prompts build`, or add a studio recording "
                    f"recordings/<language>/{ref.prompt}.wav",
                )
            )
    return problems


def check_profile(
    directory: Path, catalogue: Catalogue, available: Set[AudioFile]
) -> list[Problem]:
    """Load and check one profile directory; a refused load reports the loader's problems."""
    try:
        tables = load_profile(directory, catalogue=catalogue)
    except RoutingError as exc:
        return exc.problems
    return check(tables, catalogue, available)


def load_checked(directory: Path, catalogue: Catalogue, available: Set[AudioFile]) -> RoutingTables:
    """A profile that passes the whole check, or `RoutingError` with every problem."""
    tables = load_profile(directory, catalogue=catalogue)
    problems = check(tables, catalogue, available)
    if problems:
        raise RoutingError(problems)
    return tables


def available_audio(sounds_dir: Path) -> frozenset[AudioFile]:
    """The prompts built into `sounds_dir` (sounds/<language>/<prompt>.wav)."""
    if not sounds_dir.is_dir():
        return frozenset()
    return frozenset(
        (wav.parent.name, wav.stem) for wav in sounds_dir.glob("*/*.wav") if wav.is_file()
    )


def audio_for(catalogue: Catalogue, languages: Set[str]) -> frozenset[AudioFile]:
    """The audio files a complete build of `catalogue` gives in `languages`."""
    return frozenset(
        (lang, name)
        for name, texts in catalogue.prompts.items()
        for lang in texts
        if lang in languages
    )
