"""Cases in the store, on SQLite and PostgreSQL: numbers, idempotency, history, rules."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from ivr import cases_service as svc
from ivr.cases_check import check_case
from ivr.cases_import import ImportRefused, import_file
from ivr.cases_report import draw_sample, report_rows
from ivr.domain.cases.check import CheckAttempt
from ivr.domain.cases.numbers import parse_case_number
from ivr.domain.cases.secret import password_matches
from ivr.domain.vocabulary import CaseAction, CaseGrade, CaseKind, CaseState
from ivr.routing.loader import load_profile
from ivr.routing.view import build_view
from ivr.store import CaseStore, audit
from ivr.store.cases import CaseBook, CaseChanged, NewCase
from ivr.store.repo import MIGRATIONS_DIR

TAIPEI_DIR = Path(__file__).resolve().parents[2] / "routing" / "taipei"
T0 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # Monday 10:00 in Taipei
PLACE = "臺北市信義區信義路五段7號"


@pytest.fixture(scope="module")
def tables():  # type: ignore[no-untyped-def]
    return load_profile(TAIPEI_DIR)


@pytest.fixture
def ctx(store: CaseStore, tables) -> svc.CaseContext:  # type: ignore[no-untyped-def]
    office = build_view(tables).office
    return svc.context_for(CaseBook.of(store, "taipei"), tables, office, TAIPEI_DIR)


def petition(summary: str = "路燈不亮", **kw: object) -> svc.CaseInput:
    fields: dict[str, object] = {
        "agency_id": "pwd",
        "caller_number": "0912345678",
        "caller_name": "王小明",
    }
    fields.update(kw)
    return svc.CaseInput(CaseKind.PETITION, summary, **fields)  # type: ignore[arg-type]


def pothole(caller: str = "0922000111", address: str = PLACE, **kw: object) -> svc.CaseInput:
    return svc.CaseInput(
        CaseKind.DISPATCH,
        "坑洞",
        item=1,
        address=address,
        district="信義區",
        caller_number=caller,
        **kw,  # type: ignore[arg-type]
    )


async def test_a_keyed_case_is_made_once_with_a_readable_number(ctx: svc.CaseContext) -> None:
    """The same key twice is one case; the number parses with its check digit."""
    first = await svc.open_case(ctx, petition(), at=T0, who="agent7", key="call-1:petition")
    again = await svc.open_case(ctx, petition(), at=T0, who="agent7", key="call-1:petition")
    other = await svc.open_case(ctx, petition(), at=T0, who="agent7")
    assert again.case.id == first.case.id
    assert (first.made, again.made) == (True, False)
    assert first.password is not None
    assert again.password is None  # told once, never again
    assert parse_case_number(first.case.number) == 1
    assert parse_case_number(other.case.number) == 2
    assert password_matches(first.case.password_hash, first.password)
    assert first.password not in (first.case.password_hash or "")
    history = await ctx.book.events(first.case.id)
    assert [(e.action, e.who) for e in history] == [("created", "agent7")]


async def test_numbers_are_per_profile_and_never_repeat_under_concurrency(
    store: CaseStore, ctx: svc.CaseContext
) -> None:
    """Ten concurrent creations get ten numbers; another profile counts on its own."""
    made = await asyncio.gather(
        *(svc.open_case(ctx, petition(f"m{i}"), at=T0, who="a") for i in range(10))
    )
    numbers = {m.case.number for m in made}
    assert len(numbers) == 10
    kinmen = CaseBook.of(store, "kinmen")
    case, _ = await kinmen.create(
        NewCase(CaseKind.CONSULTATION, "kinmen-civil", "問路", T0), who="a"
    )
    assert parse_case_number(case.number) == 1
    assert case.number in numbers  # the same number, in another profile


async def test_a_move_is_made_from_the_state_it_was_decided_on(ctx: svc.CaseContext) -> None:
    """Two officers acting on one read: the second gets CaseChanged, not a double move."""
    opened = await svc.open_case(ctx, petition(), at=T0, who="a")
    stale = opened.case
    await svc.act(ctx, stale.number, CaseAction.ASSIGNED, at=T0, who="lead", officer="陳")
    from ivr.domain.cases.workflow import Move

    with pytest.raises(CaseChanged):
        await ctx.book.apply(stale, CaseAction.ASSIGNED, Move(CaseState.ASSIGNED), at=T0, who="x")


async def test_a_keyed_action_applies_once(ctx: svc.CaseContext) -> None:
    opened = await svc.open_case(ctx, petition(), at=T0, who="a")
    number = opened.case.number
    one = await svc.act(ctx, number, CaseAction.NOTE, at=T0, who="o", text="called", key="n-1")
    two = await svc.act(ctx, number, CaseAction.NOTE, at=T0, who="o", text="called", key="n-1")
    assert (one.applied, two.applied) == (True, False)
    notes = [e for e in await ctx.book.events(opened.case.id) if e.action == "note"]
    assert len(notes) == 1


async def test_petition_path_reply_survey_review_return(ctx: svc.CaseContext) -> None:
    """Grade B, dissatisfied, returned: each clock starts and stops as P7-P11 say."""
    opened = await svc.open_case(ctx, petition(), at=T0, who="agent")
    n = opened.case.number
    later = T0 + timedelta(days=2)
    graded = await svc.act(ctx, n, CaseAction.GRADED, at=later, who="o", text="12/20 會勘")
    assert (graded.case.state, graded.case.grade) == ("replied", "B")
    assert graded.case.first_reply_at == later
    assert graded.case.running == {"grade_b", "deidentify"}
    assert [c.channel for c in graded.notices] == ["sms"]
    closed = await svc.act(ctx, n, CaseAction.CLOSED, at=later, who="o", text="已修復")
    assert closed.case.state == "closed"
    review = await svc.act(ctx, n, CaseAction.SURVEY, at=later, who="ivr", score=1)
    assert review.case.state == "review"
    assert review.case.satisfaction == 1
    back = await svc.act(ctx, n, CaseAction.REOPENED, at=later, who="lead", text="退回續辦")
    assert back.case.state == "assigned"
    assert "returned" in back.case.running
    assert back.case.closed_at is None
    actions = [e.action for e in await ctx.book.events(opened.case.id)]
    assert actions == ["created", "graded", "closed", "survey", "reopened"]


async def test_reassignment_keeps_history_and_receipt(ctx: svc.CaseContext) -> None:
    opened = await svc.open_case(ctx, petition(), at=T0, who="a")
    with pytest.raises(svc.CaseError, match="reason"):
        await svc.act(
            ctx, opened.case.number, CaseAction.REASSIGNED, at=T0, who="o", agency_id="epd"
        )
    moved = await svc.act(
        ctx, opened.case.number, CaseAction.REASSIGNED, at=T0 + timedelta(days=1), who="o",
        agency_id="epd", text="環保局權責",
    )  # fmt: skip
    assert moved.case.agency_id == "epd"
    runs = [c for c in moved.case.clocks if c.clock == "reply"]
    assert len(runs) == 2
    assert runs[0].stopped_at is not None
    assert runs[1].started_at == T0  # from receipt
    assert runs[1].due_at == runs[0].due_at  # one calendar in this profile


async def test_a_report_at_an_open_orders_place_merges(ctx: svc.CaseContext) -> None:
    """T6(6)1: same item, same address however spelled: the caller gets that number."""
    first = await svc.open_case(ctx, pothole(), at=T0, who="a")
    again = await svc.open_case(
        ctx, pothole("0933000222", "台北市信義區信義路五段７號"), at=T0, who="a"
    )
    assert again.merged
    assert again.case.number == first.case.number
    history = await ctx.book.events(first.case.id)
    assert [e.action for e in history] == ["created", "absorbed"]


async def test_three_strikes_turn_a_fourth_report_into_a_petition(ctx: svc.CaseContext) -> None:
    """T6(6)2: three reports by one citizen, nothing found each time: a petition next."""
    for _ in range(3):
        opened = await svc.open_case(ctx, pothole(), at=T0, who="a")
        assert opened.case.kind == "dispatch"
        await svc.act(
            ctx, opened.case.number, CaseAction.CLOSED, at=T0, who="crew", text="查無坑洞",
            nothing_found=True,
        )  # fmt: skip
    other = await svc.open_case(ctx, pothole("0955000999"), at=T0, who="a")
    assert other.case.kind == "dispatch"
    await svc.act(ctx, other.case.number, CaseAction.CLOSED, at=T0, who="c", text="done")
    fourth = await svc.open_case(ctx, pothole("0922-000-111"), at=T0, who="a")
    assert fourth.became_petition
    assert fourth.case.kind == "petition"
    assert fourth.password is not None


async def test_convert_makes_the_petition_once(ctx: svc.CaseContext) -> None:
    order = await svc.open_case(ctx, pothole(), at=T0, who="a")
    done = await svc.convert(ctx, order.case.number, at=T0, who="crew", reason="非派工項目")
    assert done.case.state == "converted"
    petition_ = done.extra["petition"]
    assert petition_.kind == "petition"
    assert done.extra["password"] is not None
    assert done.case.converted_to_id == petition_.id
    with pytest.raises(svc.CaseError, match="final"):
        await svc.convert(ctx, order.case.number, at=T0, who="crew", reason="again")


async def test_deidentification_masks_text_and_keeps_three_strikes(ctx: svc.CaseContext) -> None:
    """P7(3): replied yesterday, masked today; the caller key still counts strikes."""
    opened = await svc.open_case(
        ctx, petition("王小明說 0912-345-678 家門口 A123456789 ming@example.com"), at=T0, who="a"
    )
    await svc.act(ctx, opened.case.number, CaseAction.NOTE, at=T0, who="o", text="王小明再來電")
    await svc.act(
        ctx, opened.case.number, CaseAction.REPLIED, at=T0, who="o", text="王小明您好",
        grade=CaseGrade.A,
    )  # fmt: skip
    assert await svc.deidentify_replied(ctx, now=T0, who="job") == []  # same day: not yet
    done = await svc.deidentify_replied(ctx, now=T0 + timedelta(days=1), who="job")
    assert done == [opened.case.number]
    case = await ctx.book.get(opened.case.id)
    assert case is not None
    for secret in ("小明", "345-678", "A123456789", "ming@"):
        assert secret not in case.summary
        assert secret not in (case.reply or "")
    assert case.caller_name == "王○明"
    assert case.caller_number == "0912○○○678"
    assert case.caller_key == opened.case.caller_key
    assert case.deidentified_at is not None
    texts = [e.text or "" for e in await ctx.book.events(case.id)]
    assert not any("小明" in t for t in texts)
    assert await svc.deidentify_replied(ctx, now=T0 + timedelta(days=2), who="job") == []


async def test_import_refuses_a_file_with_a_bad_row_and_imports_nothing(
    ctx: svc.CaseContext, tmp_path: Path
) -> None:
    csv_file = tmp_path / "paper.csv"
    csv_file.write_text(
        "received_at,kind,agency,item,summary,caller,address,district\n"
        "2026-06-01T09:00,petition,pwd,,路燈不亮,0912345678,,\n"
        "2026-06-01T09:30,dispatch,,99,坑洞,0912345678,某處,信義區\n"
        "yesterday,petition,pwd,,x,,,\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRefused) as refused:
        await import_file(ctx, csv_file, who="clerk", now=T0 + timedelta(hours=8))
    message = str(refused.value)
    assert "line 3: no dispatch item 99" in message
    assert "line 4: received_at 'yesterday' is not a time" in message
    assert await ctx.book.search() == []


async def test_import_back_fills_with_original_times_once(
    ctx: svc.CaseContext, tmp_path: Path
) -> None:
    csv_file = tmp_path / "paper.csv"
    csv_file.write_text(
        "received_at,kind,agency,item,summary,caller,address,district\n"
        "2026-06-01T09:00,petition,pwd,,路燈不亮,0912345678,,\n"
        "2026-06-01T09:30+08:00,dispatch,,1,坑洞,0912345678,臺北市大安區某路1號,大安區\n",
        encoding="utf-8",
    )
    now = T0 + timedelta(hours=8)
    first = await import_file(ctx, csv_file, who="clerk", now=now)
    again = await import_file(ctx, csv_file, who="clerk", now=now)
    assert (first["made"], again["made"], again["already"]) == (2, 0, 2)
    assert first["cases"][0]["password"] is not None
    assert again["cases"][0]["password"] is None
    cases = sorted(await ctx.book.search(), key=lambda c: c.id)
    assert [c.created_at for c in cases] == [T0 - timedelta(hours=1), T0 - timedelta(minutes=30)]
    assert all(c.from_paper and c.recorded_at == now for c in cases)
    assert cases[1].due("stage1") == T0 - timedelta(minutes=30) + timedelta(hours=4)


async def test_report_counts_overdue_stages_and_service_types(ctx: svc.CaseContext) -> None:
    late = await svc.open_case(ctx, pothole(), at=T0, who="a")
    await svc.act(
        ctx, late.case.number, CaseAction.CLOSED, at=T0 + timedelta(hours=6), who="c", text="ok"
    )
    await svc.open_case(ctx, petition(), at=T0, who="a")
    assert await ctx.book.log_service(service="consultation", at=T0, agency_id="pwd", key="c1")
    assert not await ctx.book.log_service(service="consultation", at=T0, agency_id="pwd", key="c1")
    rows = await report_rows(ctx, "2026-06")
    by = {(r.service, r.agency_id): r for r in rows}
    assert by["dispatch", "pwd"].overdue["stage1"] == 1  # closed after 6 h, due in 4
    assert by["dispatch", "pwd"].overdue["stage2"] == 0
    assert by["consultation", "pwd"].calls == 1
    assert by["petition", "pwd"].overdue["reply"] == 1  # never replied within June
    assert rows[-1].cases == 2


async def test_sample_is_repeatable_with_its_seed(ctx: svc.CaseContext) -> None:
    for i in range(8):
        opened = await svc.open_case(
            ctx, pothole(f"09{i:08d}", f"臺北市信義區某路{i}號"), at=T0, who="a"
        )
        await svc.act(ctx, opened.case.number, CaseAction.CLOSED, at=T0, who="c", text="ok")
    seed, drawn = await draw_sample(ctx, "2026-06", seed=None)
    again = await draw_sample(ctx, "2026-06", seed=seed)
    assert again == (seed, drawn)
    assert len(drawn) == 5
    assert {d["item"] for d in drawn} == {1}


async def test_upgrade_from_0007_keeps_calls_and_tickets_and_links_them(
    db_url: str,
    tables,  # type: ignore[no-untyped-def]
) -> None:
    """A store written by the schema before 0008 upgrades in place, its data intact."""
    store = await CaseStore.open(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))

    def to_0007(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")

    try:
        async with store._engine.begin() as conn:
            await conn.run_sync(to_0007)
            await conn.execute(
                text(
                    "INSERT INTO calls (uniqueid, linkedid, channel, caller_number, started_at) "
                    "VALUES ('u-old', 'u-old', 'PJSIP/x', '0912345678', :t)"
                ),
                {"t": T0},
            )
            await conn.execute(
                text(
                    "INSERT INTO tickets (number, caller_number, agency_id, reason, status, "
                    "created_at, due_at) "
                    "VALUES ('26060001', '0912345678', 'pwd', 'busy', 'open', :t, :t)"
                ),
                {"t": T0},
            )
        await store.migrate()
        call = await store.get_call_by_uniqueid("u-old")
        ticket = await store.get_ticket_by_number("26060001")
        assert call is not None
        assert ticket is not None
        ctx = svc.context_for(CaseBook.of(store, "taipei"), tables, build_view(tables).office)
        opened = await svc.open_case(
            ctx, petition(), at=T0, who="a", call_id=call.id, ticket_id=ticket.id
        )
        links = await ctx.book.links(opened.case.id)
        assert {(link.role, link.call_id, link.ticket_id) for link in links} == {
            ("call", call.id, None),
            ("absorbed", None, ticket.id),
        }
        # The call's service type was logged with the case, once.
        key = f"case:{opened.case.id}:call:{call.id}"
        assert not await ctx.book.log_service(service="petition", at=T0, call_id=call.id, key=key)
    finally:
        await store.close()


async def test_a_batch_with_a_missing_link_writes_nothing(ctx: svc.CaseContext) -> None:
    """All or none: the second case names no such call, so the first is not made either."""
    new, clocks, _ = svc.prepare(ctx, petition(), T0)
    with pytest.raises(LookupError):
        await ctx.book.create_many(
            [(new, clocks, None, None, {}), (new, clocks, 999_999, None, {})], who="a"
        )
    assert await ctx.book.search() == []
    made, _ = await ctx.book.create(new, clocks, who="a")
    assert parse_case_number(made.number) == 1  # the failed batch used up no number


async def test_a_caller_checks_a_case_with_its_password_and_every_try_is_logged(
    store: CaseStore, ctx: svc.CaseContext
) -> None:
    """Number and password give state and due date; three wrong ones end it; all audited."""
    opened = await svc.open_case(ctx, petition(), at=T0, who="agent")
    assert opened.password is not None
    wrong = "000000" if opened.password != "000000" else "111111"
    attempt = CheckAttempt()
    outcomes = []
    for password in (wrong, wrong, opened.password):
        result = await check_case(
            store, ctx.book, attempt, number=opened.case.number, password=password,
            caller="0912345678", language="zh-TW", at=T0, tz=ctx.office.tz,
        )  # fmt: skip
        attempt = result.attempt
        outcomes.append(result.outcome)
    assert outcomes == ["wrong_password", "wrong_password", "found"]
    assert "已受理" in result.text
    locked = CheckAttempt()
    for _ in range(3):
        locked_result = await check_case(
            store, ctx.book, locked, number=opened.case.number, password=wrong,
            caller=None, language="en", at=T0, tz=ctx.office.tz,
        )  # fmt: skip
        locked = locked_result.attempt
    assert locked_result.outcome == "locked_out"
    assert locked_result.text == ""
    rows = await audit.entries(store, subject=f"case:{opened.case.number}")
    assert len(rows) == 6
    assert all(opened.password not in (r.detail or "") for r in rows)
    assert rows[0].who == "ivr:0912○○○678"
