"""Public search over the releases of one language.

PostgreSQL: full-text search with the language's configuration (`russian` / `english`) over
title (weight A), lead (B) and body (C), served by a GIN expression index per language
(migration `0002_release_search_indexes`: `vector_sql()` below must stay identical to it).
The words of a plain query are also matched by their derivational root as a prefix, so
"миграционной" (stem "миграцион") finds a release that only says "миграции" (stem "миграц"),
and "экономической" finds "экономика". Hits are ranked by `ts_rank` over title and lead (a
title hit above a lead hit; exact forms above roots); hits only in the body follow, newest
first (ranking on the body would re-read every matching body). Web-search syntax
(quotes, `or`, `-word`) is honoured as PostgreSQL's `websearch_to_tsquery` reads it.
Snippets come from `ts_headline`.

SQLite (development): every word must occur in the title, lead or text, compared after
Unicode case folding and ё→е in a Python function registered on each SQLite connection
(SQLite's own LIKE and lower() fold ASCII letters only); title hits rank first.

Queries are bounded: at most `MAX_QUERY_LENGTH` characters and `MAX_TERMS` words are used; a
query without any letter or digit searches nothing. Input is only ever passed as a parameter.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, Case, F, FloatField, Func, Q, TextField, Value, When
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from news.models import Release, ReleaseQuerySet

MAX_QUERY_LENGTH = 200
MAX_TERMS = 10
CONFIGS = {"ru": "russian", "en": "english"}
# Markers ts_headline puts around hits; turned into <mark> after escaping the text.
START, STOP = "\ue000", "\ue001"
_WORD = re.compile(r"[^\W_]+")
_OPERATORS = re.compile(r'"|(^|\s)-\w|(^|\s)or(\s|$)', re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ue000\ue001]")
# Russian derivational endings left on snowball stems (миграцион → миграц, экономическ →
# эконом, государствен → государств, культурн → культур); only roots of 4+ letters are used.
RUSSIAN_ROOT_SUFFIXES = "ион|ическ|альн|ен|н"
MIN_ROOT_LENGTH = 4


@dataclass(frozen=True)
class SearchQuery:
    """A visitor's query, normalised and bounded."""

    text: str = ""
    terms: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.terms)

    @property
    def plain(self) -> bool:
        """True when the query is just words (no quotes, `or`, or `-word`)."""
        return not _OPERATORS.search(self.text)


def fold(text: str | None) -> str | None:
    """Text as the SQLite fallback compares it: tags dropped, entities decoded, case folded,
    ё read as е."""
    if text is None:
        return None
    return html.unescape(_TAG.sub(" ", text)).casefold().replace("ё", "е")


def parse(raw: str | None) -> SearchQuery:
    """Normalise a raw query: drop control characters, collapse spaces, cut to the limits."""
    text = _CONTROL.sub(" ", (raw or "")[: MAX_QUERY_LENGTH * 4])
    text = " ".join(text.split())
    if len(text) > MAX_QUERY_LENGTH:
        text = text[:MAX_QUERY_LENGTH].rsplit(" ", 1)[0] or text[:MAX_QUERY_LENGTH]
    terms = tuple(dict.fromkeys(_WORD.findall(text)))[:MAX_TERMS]
    return SearchQuery(text=text if terms else "", terms=terms)


def register_sqlite_functions(conn) -> None:
    """Give SQLite connections `press_fold(text)`, the fallback's case-insensitive form."""
    if conn.vendor == "sqlite":
        conn.connection.create_function("press_fold", 1, fold, deterministic=True)


def vector_sql(language: str, columns: dict[str, str] | None = None) -> str:
    """The weighted tsvector of one language; the GIN index is built on exactly this."""
    config = CONFIGS[language]
    columns = columns or {name: f"{name}_{language}" for name in ("title", "lead", "body")}
    parts = [
        f"setweight(to_tsvector('{config}'::regconfig, {columns[name]}), '{weight}')"
        for name, weight in (("title", "A"), ("lead", "B"), ("body", "C"))
    ]
    return "(" + " || ".join(parts) + ")"


class ReleaseVector(Func):
    """The indexed vector expression, with the query's own column references."""

    output_field = TextField()

    def __init__(self, language: str):
        self.language = language
        super().__init__(F(f"title_{language}"), F(f"lead_{language}"), F(f"body_{language}"))

    def as_sql(self, compiler, connection, **extra_context):
        columns, params = {}, []
        for name, expression in zip(
            ("title", "lead", "body"), self.source_expressions, strict=True
        ):
            sql, expression_params = compiler.compile(expression)
            columns[name] = sql
            params.extend(expression_params)
        return vector_sql(self.language, columns), params


class ReleaseTsQuery(Func):
    """websearch_to_tsquery(text), OR'ed for plain Russian queries with the roots' prefixes."""

    output_field = TextField()

    def __init__(self, query: SearchQuery, language: str):
        self.query, self.language = query, language
        super().__init__()

    def as_sql(self, compiler, connection, **extra_context):
        config = CONFIGS[self.language]
        exact = f"websearch_to_tsquery('{config}'::regconfig, %s)"
        if not self.query.plain:
            return exact, [self.query.text]
        strip = RUSSIAN_ROOT_SUFFIXES if self.language == "ru" else "(?!)"
        # Only constants are formatted in; the query text is a parameter.
        roots = (
            "(SELECT to_tsquery('simple', string_agg(CASE WHEN length(root) >= "  # noqa: S608
            f"{MIN_ROOT_LENGTH} THEN quote_literal(root) || ':*' ELSE quote_literal(lexeme) END,"
            " ' & ')) FROM (SELECT lexeme, regexp_replace(lexeme, "
            f"'({strip})$', '') AS root FROM unnest(to_tsvector('{config}'::regconfig, %s))) AS w)"
        )
        return f"({exact} || coalesce({roots}, {exact}))", [self.query.text] * 3


class _Raw(Func):
    """A fixed SQL template around already-compiled expressions (ts_rank, @@, ts_headline)."""

    def __init__(self, template: str, *expressions, output_field, params=()):
        self.raw_template, self.raw_params = template, list(params)
        super().__init__(*expressions, output_field=output_field)

    def as_sql(self, compiler, connection, **extra_context):
        sqls, params = [], []
        for expression in self.source_expressions:
            sql, expression_params = compiler.compile(expression)
            sqls.append(sql)
            params.extend(expression_params)
        return self.raw_template.format(*sqls), params + self.raw_params


def matches(query: SearchQuery, language: str) -> Func:
    """PostgreSQL: the condition `vector @@ query`, which the GIN index of `language` serves."""
    return _Raw(
        "{} @@ {}",
        ReleaseVector(language),
        ReleaseTsQuery(query, language),
        output_field=BooleanField(),
    )


def _postgres(queryset: ReleaseQuerySet, query: SearchQuery, language: str) -> ReleaseQuerySet:
    config = CONFIGS[language]
    tsquery = ReleaseTsQuery(query, language)
    options = f"StartSel={START}, StopSel={STOP}"
    plain_body = _Raw(
        "({} || ' ' || regexp_replace({}, '<[^>]*>', ' ', 'g'))",
        F(f"lead_{language}"),
        F(f"body_{language}"),
        output_field=TextField(),
    )
    return (
        queryset.filter(matches(query, language))
        .annotate(
            # Ranked on title (A) and lead (B) only: re-reading every matching body would cost
            # a to_tsvector per match; a hit only in the text ranks 0, newest first.
            search_rank=_Raw(
                f"ts_rank(setweight(to_tsvector('{config}'::regconfig, {{}}), 'A') || "
                f"setweight(to_tsvector('{config}'::regconfig, {{}}), 'B'), {{}})",
                F(f"title_{language}"),
                F(f"lead_{language}"),
                tsquery,
                output_field=FloatField(),
            ),
            search_title=_Raw(
                f"ts_headline('{config}'::regconfig, {{}}, {{}}, %s)",
                F(f"title_{language}"),
                tsquery,
                params=[options + ", HighlightAll=true"],
                output_field=TextField(),
            ),
            search_snippet=_Raw(
                f"ts_headline('{config}'::regconfig, {{}}, {{}}, %s)",
                plain_body,
                tsquery,
                params=[
                    options + ', MaxWords=40, MinWords=18, MaxFragments=2, FragmentDelimiter=" … "'
                ],
                output_field=TextField(),
            ),
        )
        .order_by("-search_rank", "-published_at", "-id")
    )


def _fallback(queryset: ReleaseQuerySet, query: SearchQuery, language: str) -> ReleaseQuerySet:
    folded = {
        name: Func(F(f"{name}_{language}"), function="press_fold", output_field=TextField())
        for name in ("title", "lead", "body")
    }
    terms = [fold(term) for term in query.terms]
    queryset = queryset.annotate(**{f"folded_{name}": expr for name, expr in folded.items()})
    condition = Q()
    for term in terms:
        condition &= (
            Q(folded_title__contains=term)
            | Q(folded_lead__contains=term)
            | Q(folded_body__contains=term)
        )
    rank = Value(0)
    for term in terms:
        for name, weight in (("title", 4), ("lead", 2), ("body", 1)):
            rank = rank + Case(
                When(**{f"folded_{name}__contains": term}, then=Value(weight)),
                default=Value(0),
            )
    return (
        queryset.filter(condition)
        .annotate(search_rank=rank)
        .order_by("-search_rank", "-published_at", "-id")
    )


def search(query: SearchQuery, language: str) -> ReleaseQuerySet:
    """Public releases of `language` matching `query`, best first (none for an empty query)."""
    queryset = Release.objects.published(language)
    if not query:
        return queryset.none()
    if connection.vendor == "postgresql":
        return _postgres(queryset, query, language)
    return _fallback(queryset, query, language)


def _marked(raw: str, *, unescape: bool) -> SafeString:
    text = escape(html.unescape(raw) if unescape else raw)
    if text.count(START) != text.count(STOP):
        return mark_safe(text.replace(START, "").replace(STOP, ""))
    return mark_safe(text.replace(START, "<mark>").replace(STOP, "</mark>"))


def _pattern(query: SearchQuery) -> re.Pattern:
    alternatives = sorted({fold(term) for term in query.terms}, key=len, reverse=True)
    return re.compile(
        "|".join(re.escape(term).replace("е", "[её]") for term in alternatives), re.IGNORECASE
    )


def _fallback_highlight(text: str, query: SearchQuery, *, window: int | None) -> str:
    pattern = _pattern(query)
    if window is not None:
        hit = pattern.search(text)
        start = max(0, (hit.start() if hit else 0) - window // 3)
        end = start + window
        if start > 0:
            start = text.find(" ", start) + 1 or start
        cut = text[start:end].rsplit(" ", 1)[0] if end < len(text) else text[start:]
        text = ("… " if start else "") + cut + (" …" if end < len(text) else "")
    return pattern.sub(lambda m: f"{START}{m.group(0)}{STOP}", text)


def present(release: Release, query: SearchQuery, language: str) -> Release:
    """Attach `highlighted_title` and `snippet` (safe HTML with <mark>) to a search hit."""
    if hasattr(release, "search_snippet"):
        # The PostgreSQL snippet comes from the body's HTML with tags removed: decode entities.
        release.highlighted_title = _marked(release.search_title, unescape=False)
        release.snippet = _marked(release.search_snippet, unescape=True)
    else:
        plain = " ".join(
            (
                release.lead(language) + " " + html.unescape(_TAG.sub(" ", release.body(language)))
            ).split()
        )
        title = _fallback_highlight(release.title(language), query, window=None)
        snippet = _fallback_highlight(plain, query, window=240)
        release.highlighted_title = _marked(title, unescape=False)
        release.snippet = _marked(snippet, unescape=False)
    return release
