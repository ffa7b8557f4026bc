"""Journalists: public e-mail subscriptions and the embargo list (DESIGN.md, "Journalists:
subscriptions and embargo"). The services others call are re-exported here."""

from news.journalists.embargo import embargo_cancelled, send_under_embargo
from news.journalists.models import Journalist
from news.journalists.subscriptions import release_became_public, subscribe

__all__ = [
    "Journalist",
    "embargo_cancelled",
    "release_became_public",
    "send_under_embargo",
    "subscribe",
]
