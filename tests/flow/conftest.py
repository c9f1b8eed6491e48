"""The engine's call flow on a scripted Asterisk, with a real case store on SQLite.

No Asterisk is started: each call is one AGI session against `ScriptedAsterisk`.
The store is real (SQLite, migrated once per session and copied per test), so what a
call writes is read back as the CLI would read it.
"""

from __future__ import annotations

import functools
import itertools
import shutil
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr import dialplan_vars as dv
from ivr.adapters.agi.hotline import HotlineScript
from ivr.adapters.calls import CallTracker
from ivr.adapters.fastagi.protocol import AGIHangup
from ivr.prompts import load_catalogue
from ivr.routing.loader import load_profile, prompt_refs
from ivr.routing.tables import RoutingTables
from ivr.routing.view import RoutingView, build_view
from ivr.store import CallRecord, CaseStore, default_sqlite_url
from ivr.store.queue_legs import QueueLegs
from ivr.store.queued_callbacks import QueuedCallbacks
from tests.flow.scripted import Command, On, ScriptedAsterisk, header, run_session
from tests.migrated import migrated_sqlite

REPO = Path(__file__).resolve().parents[2]
TAIPEI = ZoneInfo("Asia/Taipei")
# A working Monday morning: both lines are open, the offices too.
OPEN = datetime(2026, 11, 23, 10, 0, tzinfo=TAIPEI)
CALLER = "0912345678"
ENGINE_PROMPTS = frozenset(load_catalogue(REPO / "recordings").engine)
_uniqueids = itertools.count(1)


@functools.cache
def shipped(profile: str) -> RoutingTables:
    """A shipped profile's tables, loaded once: they are immutable."""
    return load_profile(REPO / "routing" / profile)


@functools.cache
def view_of(profile: str) -> RoutingView:
    """The view the engine builds from a shipped profile, built once."""
    return build_view(shipped(profile))


@dataclass
class Finished:
    """One call after its session ended and its timeline was written."""

    asterisk: ScriptedAsterisk
    record: CallRecord
    hangup: AGIHangup | None

    def events(self, kind: str) -> list[dict[str, object]]:
        return [dict(e.data) for e in self.record.events if e.kind == kind]

    @property
    def kinds(self) -> list[str]:
        return [e.kind for e in self.record.events]

    @property
    def next(self) -> str | None:
        """Where the dialplan takes the caller once the engine lets go (HOTLINE_NEXT)."""
        return self.asterisk.variables.get(dv.NEXT)

    @property
    def played(self) -> list[str]:
        return self.asterisk.played()

    def commands_between(self, first: str, then: str) -> list[Command]:
        """The applications run after the first `first` command and before the next `then`."""
        sent = self.asterisk.commands
        start = next(i for i, c in enumerate(sent) if c.line.startswith(first))
        end = next(i for i in range(start + 1, len(sent)) if sent[i].line.startswith(then))
        return [c for c in sent[start + 1 : end] if c.line.startswith("EXEC ")]


@dataclass
class FlowEngine:
    """The hotline script wired as `ivr serve` wires it, minus Asterisk."""

    store: CaseStore
    tracker: CallTracker
    spool_dir: Path
    view: RoutingView
    tables: RoutingTables
    now: datetime = OPEN

    def script(self, asterisk: ScriptedAsterisk | None = None) -> HotlineScript:
        def clock() -> datetime:
            waited = asterisk.waited_s if asterisk is not None else 0.0
            return self.now + timedelta(seconds=waited)

        return HotlineScript(
            tracker=self.tracker,
            clock=clock,
            sounds_dir=Path("/sounds"),
            spool_dir=self.spool_dir,
            routing=lambda: self.view,
            current_mode=self.store.current_mode,
            store=self.store,
            closures=self.store.closures,
            queued_callbacks=QueuedCallbacks.of(self.store),
            queue_legs=QueueLegs.of(self.store),
        )

    def use(self, profile: str) -> None:
        self.tables = shipped(profile)
        self.view = view_of(profile)

    async def call(
        self,
        steps: Sequence[On] = (),
        *,
        caller: str = CALLER,
        entry: str = "hotline",
        args: Sequence[str] = (),
        variables: dict[str, str] | None = None,
        uniqueid: str | None = None,
    ) -> Finished:
        """Place one call through the engine; the caller acts as `steps` say."""
        uid = uniqueid or f"1764000000.{next(_uniqueids)}"
        asterisk = ScriptedAsterisk(list(steps), {"CHANNEL(linkedid)": uid, **(variables or {})})
        script = self.script(asterisk)
        handler = script if entry == "hotline" else script.transfer_entry
        env = header(entry, uniqueid=uid, caller=caller, args=args)
        hangup = await run_session(handler, asterisk, env)
        await self.tracker.flush()
        record = await self.store.get_call_by_uniqueid(uid)
        assert record is not None, "the call was never recorded"
        # Every prompt a call plays is one `ivr routing check` checks: named by a table,
        # or in the catalogue's `engine` list.
        named = {ref.prompt for ref in prompt_refs(self.tables)} | ENGINE_PROMPTS
        unnamed = sorted({p for p in asterisk.played() if p not in named})
        assert unnamed == [], f"prompts played but named nowhere: {unnamed}"
        assert asterisk.script == [], f"the caller never got to {asterisk.script}"
        return Finished(asterisk, record, hangup)


@pytest.fixture(scope="session")
def migrated_db() -> Path:
    """One migrated SQLite case store; each test gets a copy (migrating is the slow part)."""
    return migrated_sqlite()


@pytest.fixture
def store_path(migrated_db: Path, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "cases.db"
    shutil.copyfile(migrated_db, path)
    return path


@pytest.fixture
async def engine(store_path: Path, tmp_path: Path) -> AsyncIterator[FlowEngine]:
    store = await CaseStore.open(default_sqlite_url(store_path))
    tracker = CallTracker(store, lambda: OPEN)
    flow = FlowEngine(store, tracker, tmp_path / "messages", view_of("taipei"), shipped("taipei"))
    yield flow
    await tracker.flush()
    await store.close()
