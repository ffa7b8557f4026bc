"""Django's admin autodiscovery imports this module: the newsroom's model admins register here."""

from news.newsroom.releases import AuthorAdmin, CategoryAdmin, ReleaseAdmin, WorkflowEventAdmin

__all__ = ["AuthorAdmin", "CategoryAdmin", "ReleaseAdmin", "WorkflowEventAdmin"]

from news.journalists.admin import (
    DeliveryAdmin,
    EmbargoViewAdmin,
    JournalistAdmin,
    SubscriberAdmin,
)

__all__ += ["DeliveryAdmin", "EmbargoViewAdmin", "JournalistAdmin", "SubscriberAdmin"]
