"""The admin's change lists with filters that cannot take a page down: a date hierarchy or a
date lookup (`?published_at__year=1`, `year=9999&month=12`, `__gte=0001-01-01`) outside the
years 1900-9998, or an exact lookup whose value the field refuses (`?ip_address=9999-12-31`,
which PostgreSQL would refuse to cast), is an incorrect lookup (the admin redirects to the list
with `?e=1`), not a 500."""

from __future__ import annotations

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils.dateparse import parse_date, parse_datetime

SANE_YEARS = range(1900, 9999)
PART_RANGES = {"year": SANE_YEARS, "month": range(1, 13), "day": range(1, 32)}


class BoundedDatesChangeList(ChangeList):
    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        for key, values in lookup_params.items():
            name, _, lookup = key.partition("__")
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            for value in values if isinstance(values, list) else [values]:
                if isinstance(field, models.DateField):  # DateTimeField is one too
                    check_date_lookup(key, lookup, str(value))
                elif lookup in ("", "exact") and not field.is_relation:
                    check_value(key, field, value)
        return lookup_params


def check_value(key: str, field: models.Field, value) -> None:
    try:
        field.run_validators(field.to_python(value))
    except ValidationError:
        raise IncorrectLookupParameters(f"{key}={value!r} is not a valid value") from None


def check_date_lookup(key: str, lookup: str, value: str) -> None:
    if lookup in PART_RANGES:
        if not (value.isascii() and value.isdigit() and int(value) in PART_RANGES[lookup]):
            raise IncorrectLookupParameters(f"{key}={value!r} is out of range")
        return
    try:
        moment = parse_datetime(value) or parse_date(value)
    except ValueError:
        raise IncorrectLookupParameters(f"{key}={value!r} is not a date") from None
    if moment is not None and moment.year not in SANE_YEARS:
        raise IncorrectLookupParameters(f"{key}={value!r} is out of range")
