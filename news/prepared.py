"""Querysets compiled to SQL once per process, then run with each request's values.

Building and compiling a queryset costs Python time that depends on its shape, not on the
data: the release page's query (the public rule, its neighbours and its other language as
subqueries) took about 3 ms to build and compile, and PostgreSQL 0.7 ms to answer it. The
public pages run the same few shapes over and over with different values (an id, the current
moment, a category), so a `PreparedQuery` builds its queryset once per database and shape with
*marker* values, finds where the markers sit among the compiled parameters, and afterwards
executes the same SQL with the request's values in their places, converting the columns with
the converters the ORM itself would apply. The queryset stays the single source of the SQL
(the public rule is still `Release.objects.published()`); nothing is written by hand.

- `build(*shape, **markers)` returns a `.values()` queryset. `shape` holds what changes the
  SQL text itself (a language, a slice, whose LIMIT/OFFSET Django writes inline); each
  distinct shape is compiled once and kept (at most `max_shapes` of them, least recently used
  dropped first). `markers` are the parameters, declared with their type (`int`, `str` or
  `datetime.datetime`).
- A marker must reach the SQL as a parameter; compiling fails with a clear error if one does
  not (for example if it was folded into the SQL text), so a wrong use shows in the tests.
- `int` parameters are ids, compared for equality: a value outside the database's integer
  range finds nothing, as with the ORM (no query is run).
- Rows are dicts keyed like `.values()` keys them. Queries run through the connection's
  cursor, so query counting, execute wrappers and the debug log see them as usual.
"""

from __future__ import annotations

import datetime
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.query import ValuesIterable

_MARKER_BASE = 918_273_600  # values no real parameter of ours takes


# Parameter types by name: the names are compared, not the classes, because freezegun (in
# the tests) replaces `datetime.datetime` while time is frozen.
KINDS = frozenset({"int", "str", "datetime"})


def _marker(kind: str, number: int):
    if kind == "int":
        return -(_MARKER_BASE + number)
    if kind == "str":
        return f"\ue000marker-{number}\ue001"
    return datetime.datetime(2999, 12, 31, 23, 59, 58, 900_000 + number, tzinfo=datetime.UTC)


def _adapter(kind: str, connection) -> Callable:
    """What Django does to a value of `kind` on its way to this database as a parameter."""
    if kind == "datetime":
        return connection.ops.adapt_datetimefield_value
    return int if kind == "int" else str


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: dict[str, tuple[int, ...]]
    names: tuple[str, ...]
    converters: dict


class PreparedQuery:
    def __init__(self, build: Callable[..., QuerySet], *, max_shapes: int = 256, **kinds: type):
        self.build = build
        self.kinds = {name: kind.__name__ for name, kind in kinds.items()}
        unknown = set(self.kinds.values()) - KINDS
        if unknown:
            raise TypeError(f"a prepared parameter is an int, a str or a datetime, not {unknown}")
        self.max_shapes = max_shapes
        self._compiled: OrderedDict[tuple, _Compiled] = OrderedDict()

    def compile(self, shape: tuple, using: str = DEFAULT_DB_ALIAS) -> _Compiled:
        connection = connections[using]
        key = (using, connection.vendor, shape)
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
        slots = {}
        for name, value in markers.items():
            adapted = _adapter(self.kinds[name], connection)(value)
            slots[name] = tuple(
                position
                for position, param in enumerate(params)
                if type(param) is type(adapted) and param == adapted
            )
            if not slots[name]:
                raise ValueError(
                    f"the parameter {name!r} does not reach the SQL of {self.build.__qualname__} "
                    "as a parameter; pass it in the shape instead"
                )
        fields = [selected[0] for selected in compiler.select[: compiler.col_count]]
        compiled = _Compiled(
            sql=sql,
            params=tuple(params),
            slots=slots,
            names=(*query.extra_select, *query.values_select, *query.annotation_select),
            converters=compiler.get_converters(fields),
        )
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
