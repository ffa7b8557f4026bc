"""Django's admin autodiscovery imports this module: the newsroom's model admins register here."""

from news.newsroom.releases import AuthorAdmin, CategoryAdmin, ReleaseAdmin, WorkflowEventAdmin

__all__ = ["AuthorAdmin", "CategoryAdmin", "ReleaseAdmin", "WorkflowEventAdmin"]
