"""The range a publication date may take: from PUBLICATION_YEARS_MIN (1990) to
PUBLICATION_YEARS_AHEAD years after this one. Every way a date gets in (the admin form, the
publish action, the importer, restore) checks it here, so no page ever has to show year 1 or
year 9999 (a BC timestamp on PostgreSQL cannot even be read back)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def allowed_years() -> range:
    """The years a publication date may fall in."""
    return range(
        settings.PUBLICATION_YEARS_MIN, timezone.now().year + settings.PUBLICATION_YEARS_AHEAD + 1
    )


def is_allowed_year(year: int) -> bool:
    return year in allowed_years()


def check_publication_date(value: datetime.datetime | datetime.date | None) -> None:
    """Refuse a publication date outside `allowed_years()` with a message naming the range."""
    if value is None:
        return
    # The year as given, in the zone given: converting year 1 to UTC could itself overflow.
    years = allowed_years()
    if value.year not in years:
        raise ValidationError(
            _("The publication date must fall between the years %(first)s and %(last)s."),
            code="publication_date_out_of_range",
            params={"first": years.start, "last": years.stop - 1},
        )


class YearConverter:
    """`<year:year>` in a URL: ASCII digits naming an allowed publication year; any other
    year (1, 99999...) does not match, so the archive answers 404 instead of overflowing."""

    regex = "[0-9]{1,6}"

    def to_python(self, value: str) -> int:
        year = int(value)
        if not is_allowed_year(year):
            raise ValueError(value)
        return year

    def to_url(self, value) -> str:
        return str(int(value))


class MonthConverter:
    """`<month:month>`: 1 to 12, one or two ASCII digits."""

    regex = "[0-9]{1,2}"

    def to_python(self, value: str) -> int:
        month = int(value)
        if not 1 <= month <= 12:
            raise ValueError(value)
        return month

    def to_url(self, value) -> str:
        return str(int(value))
