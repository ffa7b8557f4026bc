"""Django's admin autodiscovery imports this module: the newsroom's model admins register here."""

from news.newsroom.releases import AuthorAdmin, CategoryAdmin, ReleaseAdmin, WorkflowEventAdmin
from news.newsroom.users import NewsroomGroupAdmin, NewsroomUserAdmin

__all__ = [
    "AuthorAdmin",
    "CategoryAdmin",
    "NewsroomGroupAdmin",
    "NewsroomUserAdmin",
    "ReleaseAdmin",
    "WorkflowEventAdmin",
]
