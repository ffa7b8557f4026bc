"""Timestamps PostgreSQL can hold but Python cannot: a row written before publication dates
were bounded (year 1 in Europe/Minsk's local mean time is stored as a BC timestamp) would make
psycopg raise on every page that reads it. These loaders read such values as the earliest
(or latest) moment Python has, so an already-bad row shows an absurd date instead of taking
the feeds, the lists and the admin down; the newsroom can then correct it.

Imported by the settings when the database is PostgreSQL, before Django's backend reads
psycopg's loaders (Django wraps the `timestamptz` loader it finds registered)."""

from __future__ import annotations

import datetime

import psycopg
from psycopg.types.datetime import (
    DateBinaryLoader,
    DateLoader,
    TimestampBinaryLoader,
    TimestampLoader,
    TimestamptzBinaryLoader,
    TimestamptzLoader,
)

EARLIEST = datetime.datetime.min.replace(tzinfo=datetime.UTC)
LATEST = datetime.datetime.max.replace(tzinfo=datetime.UTC)


def clamping(loader: type, earliest, latest) -> type:
    class ClampingLoader(loader):
        def load(self, data):
            try:
                return super().load(data)
            except psycopg.DataError as error:
                return earliest if "small" in str(error) or "before" in str(error) else latest

    ClampingLoader.__name__ = f"Clamping{loader.__name__}"
    return ClampingLoader


def register(adapters=psycopg.adapters) -> None:
    for name, loader, earliest, latest in [
        ("timestamptz", TimestamptzLoader, EARLIEST, LATEST),
        ("timestamptz", TimestamptzBinaryLoader, EARLIEST, LATEST),
        ("timestamp", TimestampLoader, EARLIEST.replace(tzinfo=None), LATEST.replace(tzinfo=None)),
        (
            "timestamp",
            TimestampBinaryLoader,
            EARLIEST.replace(tzinfo=None),
            LATEST.replace(tzinfo=None),
        ),
        ("date", DateLoader, datetime.date.min, datetime.date.max),
        ("date", DateBinaryLoader, datetime.date.min, datetime.date.max),
    ]:
        adapters.register_loader(name, clamping(loader, earliest, latest))


register()
