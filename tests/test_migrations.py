"""Data migrations, run on rows shaped as the previous schema left them."""

import importlib

import pytest
from django.apps import apps

from news.models import Release
from tests.factories import PublishedFactory

pytestmark = pytest.mark.django_db

body_without_lead = importlib.import_module("news.migrations.0005_body_without_lead")


def test_a_text_opening_with_its_lead_loses_that_paragraph_only():
    repeated = PublishedFactory(
        lead_ru="Состоялось заседание.",
        body_ru="<p>Состоялось  заседание.</p><p>Обсуждены вопросы.</p>",
        lead_en="A meeting was held.",
        body_en="<p>Another opening.</p><p>A meeting was held.</p>",
    )
    alone = PublishedFactory(lead_ru="Один абзац.", body_ru="<p>Один абзац.</p>")
    body_without_lead.drop_repeated_lead(apps, None)
    repeated.refresh_from_db()
    alone.refresh_from_db()
    assert repeated.body_ru == "<p>Обсуждены вопросы.</p>"
    assert repeated.body_en == "<p>Another opening.</p><p>A meeting was held.</p>"
    assert alone.body_ru == "<p>Один абзац.</p>"  # the whole text stays
    assert Release.objects.published("ru").count() == 2
