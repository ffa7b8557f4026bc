"""Querysets compiled to SQL once per process, prepared once per database session, then run
with each request's values.

Building and compiling a queryset costs Python time that depends on its shape, not on the
data, and so does PostgreSQL's planning: the release page's query (the public rule, its
neighbours and its other language as subqueries) took about 3 ms to build and compile, 1.1 ms
for PostgreSQL to plan and 0.3 ms to run. The public pages run the same few shapes over and
over with different values (an id, the current moment, a category, an offset), so a
`PreparedQuery`

- builds its queryset once per database and shape with *marker* values, finds where the
  markers sit among the compiled parameters (or, for an int, in the SQL text, where Django
  writes a slice's OFFSET) and turns each place into a parameter;
- on PostgreSQL, declares the SQL as a server-side prepared statement (`PREPARE`) once per
  database session, so PostgreSQL plans it once per session rather than on every request
  (a session that lost it is given it again); SQLite keeps its own statement cache.
  `DB_PREPARED_STATEMENTS=0` turns this off, for a PgBouncer in transaction pooling mode,
  where consecutive queries may reach different server sessions;
- executes it with the request's values and converts the columns with the converters the
  ORM itself would apply.

The queryset stays the single source of the SQL (the public rule is still
`Release.objects.published()`); nothing is written by hand.

- `build(*shape, **markers)` returns a `.values()` queryset. `shape` holds what changes the
  SQL text itself (a language); each distinct shape is compiled once and kept (at most
  `max_shapes` of them, least recently used dropped first). `markers` are the parameters,
  declared with their type (`int`, `str` or `datetime.datetime`).
- A marker must reach the SQL as a parameter or, for an int, as a number of its own in the
  SQL text (a slice: `ids[offset : offset + 21]`); compiling fails with a clear error
  otherwise, so a wrong use shows in the tests.
- `int` parameters are ids and offsets: a value outside the database's integer range finds
  nothing, as with the ORM (no query is run).
- Rows are dicts keyed like `.values()` keys them. Queries run through the connection's
  cursor, so query counting, execute wrappers and the debug log see them as usual. The
  once-per-session `PREPARE` goes through the driver's connection directly, like Django's own
  connection set-up, and is not counted as a query of the request that happened to run first.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, ProgrammingError, connections
from django.db.models import QuerySet
from django.db.models.query import ValuesIterable

# Marker values no real parameter of ours takes.
_MARKER_BASE = 918_273_600
# Parameter types by name: the names are compared, not the classes, because freezegun (in
# the tests) replaces `datetime.datetime` while time is frozen.
KINDS = frozenset({"int", "str", "datetime"})
# The PostgreSQL type of a prepared statement's parameter, by its kind (aware datetimes: the
# project runs with USE_TZ).
_PG_TYPES = {"int": "bigint", "str": "text", "datetime": "timestamptz"}
_PLACEHOLDER = re.compile(r"%%|%s")

# Names of the statements prepared in each PostgreSQL session (by driver connection).
_prepared_in: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _marker(kind: str, number: int):
    if kind == "int":
        return _MARKER_BASE + number
    if kind == "str":
        return f"\ue000marker-{number}\ue001"
    return datetime.datetime(2999, 12, 31, 23, 59, 58, 900_000 + number, tzinfo=datetime.UTC)


def _adapter(kind: str, connection) -> Callable:
    """What Django does to a value of `kind` on its way to this database as a parameter."""
    if kind == "datetime":
        return connection.ops.adapt_datetimefield_value
    return int if kind == "int" else str


def _inline(sql: str, params: list, token: str) -> tuple[str, list, list[int], list[int]]:
    """Turn each occurrence of the number `token` in `sql` into a placeholder. Returns the new
    SQL, the new parameters (the number in the new places), those places, and where each old
    parameter went."""
    pieces, new_params, places, moved, last = [], [], [], [], 0
    for match in re.finditer(rf"%%|%s|(?<![\w.$]){token}(?![\w.])", sql):
        if match.group() == "%s":
            moved.append(len(new_params))
            new_params.append(params[len(moved) - 1])
        elif match.group() != "%%":
            pieces.append(sql[last : match.start()] + "%s")
            last = match.end()
            places.append(len(new_params))
            new_params.append(int(token))
    pieces.append(sql[last:])
    return "".join(pieces), new_params, places, moved


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: dict[str, tuple[int, ...]]
    names: tuple[str, ...]
    converters: dict
    # PostgreSQL: the statement's name and its PREPARE ("" where it is not prepared).
    statement: str = ""
    prepare: str = ""


class PreparedQuery:
    def __init__(self, build: Callable[..., QuerySet], *, max_shapes: int = 64, **kinds: type):
        self.build = build
        self.kinds = {name: kind.__name__ for name, kind in kinds.items()}
        unknown = set(self.kinds.values()) - KINDS
        if unknown:
            raise TypeError(f"a prepared parameter is an int, a str or a datetime, not {unknown}")
        self.max_shapes = max_shapes
        self._compiled: OrderedDict[tuple, _Compiled] = OrderedDict()

    def compile(self, shape: tuple, using: str = DEFAULT_DB_ALIAS) -> _Compiled:
        connection = connections[using]
        server_side = connection.vendor == "postgresql" and getattr(
            settings, "DB_PREPARED_STATEMENTS", False
        )
        key = (using, connection.vendor, server_side, shape)
        with _lock:  # app servers may run threads (gunicorn's gthread workers)
            compiled = self._compiled.get(key)
            if compiled is not None:
                self._compiled.move_to_end(key)
                return compiled
        markers = {name: _marker(kind, n) for n, (name, kind) in enumerate(self.kinds.items())}
        queryset = self.build(*shape, **markers)
        if queryset._iterable_class is not ValuesIterable:
            raise TypeError("a prepared query is built as a .values() queryset")
        query = queryset.query
        compiler = query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        params = list(params)
        slots = {}
        markers_adapted = {}
        for name, value in markers.items():
            adapted = markers_adapted[name] = _adapter(self.kinds[name], connection)(value)
            found = [
                position
                for position, param in enumerate(params)
                if type(param) is type(adapted) and param == adapted
            ]
            if not found and self.kinds[name] == "int":
                # Written into the SQL text (a slice's OFFSET): make it a parameter there.
                sql, params, found, moved = _inline(sql, params, str(value))
                slots = {other: [moved[p] for p in places] for other, places in slots.items()}
            if not found:
                raise ValueError(
                    f"the parameter {name!r} does not reach the SQL of {self.build.__qualname__} "
                    "as a parameter; pass it in the shape instead"
                )
            slots[name] = found
        fields = [selected[0] for selected in compiler.select[: compiler.col_count]]
        statement, prepare = "", ""
        if server_side:
            # Only the markers are the statement's parameters ($1, $2... one per marker, used
            # wherever it occurs); the query's own constants (a status, a flag) are written
            # in as literals, so PostgreSQL's plan can use the partial indexes whose
            # predicates name them, and one plan serves every execution.
            from psycopg.sql import Literal

            connection.ensure_connection()
            number = {}
            for position in sorted(p for places in slots.values() for p in places):
                name = next(n for n, places in slots.items() if position in places)
                number.setdefault(name, len(number) + 1)
            at = {p: number[n] for n, places in slots.items() for p in places}
            values = iter(enumerate(params))

            def substitute(match: re.Match) -> str:
                if match.group() == "%%":
                    return "%"
                position, value = next(values)
                if position in at:
                    return f"${at[position]}"
                return Literal(value).as_string(connection.connection)

            body = _PLACEHOLDER.sub(substitute, sql)
            order = sorted(number, key=number.get)
            types = [_PG_TYPES[self.kinds[name]] for name in order]
            digest = hashlib.blake2s(body.encode(), digest_size=10).hexdigest()
            statement = f"press_{digest}"
            arguments = f" ({', '.join(types)})" if types else ""
            prepare = f"PREPARE {statement}{arguments} AS {body}"
            sql = f"EXECUTE {statement}" + (f"({', '.join(['%s'] * len(order))})" if order else "")
            params = [markers_adapted[name] for name in order]
            slots = {name: [index] for index, name in enumerate(order)}
        compiled = _Compiled(
            sql=sql,
            params=tuple(params),
            slots={name: tuple(positions) for name, positions in slots.items()},
            names=(*query.extra_select, *query.values_select, *query.annotation_select),
            converters=compiler.get_converters(fields),
            statement=statement,
            prepare=prepare,
        )
        with _lock:
            self._compiled[key] = compiled
            if len(self._compiled) > self.max_shapes:
                self._compiled.popitem(last=False)
        return compiled

    def __call__(self, *shape, using: str = DEFAULT_DB_ALIAS, **values) -> list[dict]:
        """The rows of the query of `shape` with the parameters `values`, as dicts."""
        if values.keys() != self.kinds.keys():
            raise TypeError(f"expected the parameters {sorted(self.kinds)}, got {sorted(values)}")
        connection = connections[using]
        low, high = connection.ops.integer_field_range("BigIntegerField")
        for name, kind in self.kinds.items():
            if kind == "int" and not low <= values[name] <= high:
                return []  # as the ORM answers an id out of the database's range: nothing
        compiled = self.compile(shape, using)
        params = list(compiled.params)
        for name, positions in compiled.slots.items():
            value = _adapter(self.kinds[name], connection)(values[name])
            for position in positions:
                params[position] = value
        with connection.cursor() as cursor:
            if compiled.statement:
                _prepare(connection, compiled)
            try:
                cursor.execute(compiled.sql, params)
            except ProgrammingError as error:
                # The session lost the statement (DEALLOCATE, DISCARD ALL): prepare it again
                # and run it once more, where no transaction was broken by the failure.
                if not _statement_missing(error) or connection.in_atomic_block:
                    raise
                _forget(connection)
                _prepare(connection, compiled)
                cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        names, converters = compiled.names, compiled.converters
        if converters:
            converted = []
            for row in rows:
                row = list(row)
                for position, (functions, expression) in converters.items():
                    value = row[position]
                    for function in functions:
                        value = function(value, expression, connection)
                    row[position] = value
                converted.append(row)
            rows = converted
        return [dict(zip(names, row, strict=True)) for row in rows]


def _prepare(connection, compiled: _Compiled) -> None:
    """Declare `compiled` in this PostgreSQL session unless it already is. A prepared
    statement lives as long as the session (a rolled-back transaction keeps it); a new
    connection is a new session, tracked by its own driver connection object."""
    driver = connection.connection
    with _lock:
        names = _prepared_in.get(driver)
        if names is None:
            names = _prepared_in[driver] = set()
    if compiled.statement not in names:  # a connection belongs to one thread
        # Django's wrapper turns a driver error into Django's (OperationalError: the 503 page
        # of a database outage) and marks the connection for closing at the end of the request.
        with connection.wrap_database_errors:
            driver.execute(compiled.prepare)
        names.add(compiled.statement)


def _forget(connection) -> None:
    with _lock:
        _prepared_in.pop(connection.connection, None)


def _statement_missing(error: Exception) -> bool:
    """Whether PostgreSQL answered "prepared statement ... does not exist" (26000)."""
    return getattr(error.__cause__, "sqlstate", None) == "26000"
