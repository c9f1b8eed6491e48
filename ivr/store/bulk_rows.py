"""One statement for many rows: the bulk writers' UPDATE of a batch, and its INSERT.

An `executemany` sends one statement per row. SQLite runs that in a C loop inside the
process, which is as fast as it gets there; PostgreSQL runs each row as a statement of
its own (bind, plan, execute, index upkeep per row) and the asyncpg driver reports no
total row count for it. On PostgreSQL the rows are therefore sent as one array per
column and unnested into a derived table: one statement per batch, the same SQL text
for every batch (prepared once), and a true row count.

- `update_rows`: `UPDATE t SET c = v.f … FROM unnest(…) AS v(…) WHERE t.k = v.k …`.
- `insert_rows`: `INSERT INTO t (…) SELECT … FROM unnest(…)`, optionally skipping rows
  whose unique key is there already (`ON CONFLICT (…) DO NOTHING`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import JSON, Table, Text, any_, bindparam, column, func, insert, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine

from ivr.store.models import Base


def _is_json(type_: TypeEngine[Any]) -> bool:
    return isinstance(type_, JSON)


def _unnested(table: Table, fields: Mapping[str, str], rows: Sequence[Mapping[str, Any]]) -> Any:
    """`unnest(:a, :b, …) AS v(f1, f2, …)`: field → column of `table` whose type it has."""
    names = list(fields)
    arrays = []
    columns = []
    for i, name in enumerate(names):
        type_ = table.c[fields[name]].type
        values = [row[name] for row in rows]
        if _is_json(type_):
            # Sent as text and cast back: no driver codec for arrays of JSON is needed.
            values = [None if v is None else _dumps(v) for v in values]
            type_ = Text()
        arrays.append(bindparam(f"u{i}", value=values, type_=pg.ARRAY(type_)))
        columns.append(column(name, type_))
    return func.unnest(*arrays).table_valued(*columns).render_derived(name="v")


def _picked(table: Table, v: Any, names: Sequence[str]) -> list[Any]:
    # JSON went as text (see `_unnested`): cast back to the column's type.
    return [
        sql_cast(v.c[n], table.c[n].type) if _is_json(table.c[n].type) else v.c[n] for n in names
    ]


def _dumps(value: Any) -> str:
    # As the store's engines write JSON: Chinese text readable, not \u escapes.
    return json.dumps(value, ensure_ascii=False)


async def prefer_indexes(conn: AsyncConnection) -> None:
    """Plan this transaction's statements on the indexes (PostgreSQL; a no-op elsewhere).

    Every statement of a bulk write finds its rows by key (ids, case and clock,
    idempotency keys), and each has an index. Tables that have just grown by a month
    of rows have no fresh statistics yet, and the planner then takes them for small
    and joins each batch by scanning them whole: measured at a month's scale, one
    batch's clock UPDATE took a second instead of tens of milliseconds, and which
    statement was hit changed from run to run. `SET LOCAL` ends with the transaction.
    """
    if conn.dialect.name == "postgresql":
        await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")


def where_in(conn: AsyncConnection, col: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`col IN (values)`; on PostgreSQL `col = ANY(:array)`, one parameter.

    A list of hundreds of parameters can be planned as a scan of the whole table
    that compares each row with each value (seen at a month's scale, before the
    table had statistics); `= ANY` of an array is an index lookup per value.
    """
    if conn.dialect.name != "postgresql":
        return cast(ColumnElement[bool], col.in_(values))
    array = bindparam("in_values", value=list(values), type_=pg.ARRAY(col.type), unique=True)
    return cast(ColumnElement[bool], col == any_(array))


async def update_rows(
    conn: AsyncConnection,
    model: type[Base],
    rows: Sequence[Mapping[str, Any]],
    *,
    match: Mapping[str, str],
    values: Mapping[str, str],
    where: Sequence[ColumnElement[bool]] = (),
) -> int:
    """For each row, `UPDATE model's table SET col = row[field] … WHERE col = row[field] … AND
    where`; how many rows of `table` were updated.

    `match` and `values` map a column of the table to the field of the row that holds
    its value. Field names must not be column names of `table` (SQLAlchemy reserves
    those for the SET clause's own parameters).
    """
    if not rows:
        return 0
    table = cast(Table, model.__table__)
    if conn.dialect.name != "postgresql":
        stmt = (
            update(table)
            .where(*(table.c[c] == bindparam(f) for c, f in match.items()), *where)
            .values({c: bindparam(f) for c, f in values.items()})
        )
        done = await conn.execute(stmt, [dict(r) for r in rows])
        return int(done.rowcount)
    fields = {f: c for c, f in match.items()} | {f: c for c, f in values.items()}
    v = _unnested(table, fields, rows)
    stmt = (
        update(table)
        .where(*(table.c[c] == v.c[f] for c, f in match.items()), *where)
        .values({c: v.c[f] for c, f in values.items()})
    )
    done = await conn.execute(stmt)
    return int(done.rowcount)


async def insert_rows(
    conn: AsyncConnection,
    model: type[Base],
    rows: Sequence[Mapping[str, Any]],
    *,
    skip_on: Sequence[str] = (),
) -> int:
    """Insert `rows` (column → value, the same columns in each); how many were inserted.

    With `skip_on`, a row whose unique columns are taken already is skipped (ON
    CONFLICT DO NOTHING).
    """
    if not rows:
        return 0
    table = cast(Table, model.__table__)
    names = list(rows[0])
    if conn.dialect.name != "postgresql":
        stmt: Any = sqlite.insert(table) if skip_on else insert(table)
        if skip_on:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(skip_on))
        done = await conn.execute(stmt, [dict(r) for r in rows])
        return int(done.rowcount)
    v = _unnested(table, {n: n for n in names}, rows)
    stmt = pg.insert(table).from_select(names, select(*_picked(table, v, names)))
    if skip_on:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(skip_on))
    done = await conn.execute(stmt)
    return int(done.rowcount)


async def insert_returning(
    conn: AsyncConnection,
    model: type[Base],
    rows: Sequence[Mapping[str, Any]],
    returning: Sequence[Any],
) -> list[tuple[Any, ...]] | None:
    """On PostgreSQL, insert `rows` (as `insert_rows`, none skipped) and return
    `returning` of each, in no particular order: match them up by a unique column.

    Elsewhere, insert them and return None: read what you need back. SQLite could
    return them too, but SQLAlchemy then renders the executemany as multi-row INSERTs
    in Python, which measured slower than the executemany and a read back by key.
    """
    if not rows:
        return []
    table = cast(Table, model.__table__)
    if conn.dialect.name != "postgresql":
        await insert_rows(conn, model, rows)
        return None
    names = list(rows[0])
    v = _unnested(table, {n: n for n in names}, rows)
    stmt = pg.insert(table).from_select(names, select(*_picked(table, v, names)))
    done = await conn.execute(stmt.returning(*returning))
    return [tuple(r) for r in done.all()]
