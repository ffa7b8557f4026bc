"""Django's admin autodiscovery imports this module: the newsroom's model admins register here."""

from news.journalists.admin import DeliveryAdmin, EmbargoViewAdmin, JournalistAdmin, SubscriberAdmin
from news.newsroom.releases import AuthorAdmin, CategoryAdmin, ReleaseAdmin, WorkflowEventAdmin
from news.newsroom.users import NewsroomGroupAdmin, NewsroomUserAdmin

__all__ = [
    "AuthorAdmin",
    "CategoryAdmin",
    "DeliveryAdmin",
    "EmbargoViewAdmin",
    "JournalistAdmin",
    "NewsroomGroupAdmin",
    "NewsroomUserAdmin",
    "ReleaseAdmin",
    "SubscriberAdmin",
    "WorkflowEventAdmin",
]
