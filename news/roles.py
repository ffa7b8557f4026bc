"""The editorial roles as Django groups with exactly the permissions they need."""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

ROLES: dict[str, list[str]] = {
    # Press officers: write releases, edit their own drafts, submit them.
    "Authors": [
        "news.view_release", "news.add_release", "news.change_release", "news.submit_release",
        "news.view_author", "news.add_author",
        "news.view_category",
        "news.view_releaseauthor", "news.add_releaseauthor", "news.change_releaseauthor",
        "news.delete_releaseauthor",
        "news.view_releasesource", "news.add_releasesource", "news.change_releasesource",
        "news.delete_releasesource",
        "news.view_releasedocument", "news.add_releasedocument",
        "news.change_releasedocument", "news.delete_releasedocument",
        "news.view_releasephoto", "news.add_releasephoto", "news.change_releasephoto",
        "news.delete_releasephoto",
        "news.view_workflowevent",
    ],
    # Editors: everything authors do, on any release, plus review, publish, withdraw.
    "Editors": [
        "news.view_release", "news.add_release", "news.change_release", "news.submit_release",
        "news.publish_release", "news.withdraw_release", "news.edit_any_release",
        "news.force_publish_release",
        "news.view_author", "news.add_author", "news.change_author",
        "news.view_category", "news.add_category", "news.change_category",
        "news.view_releaseauthor", "news.add_releaseauthor", "news.change_releaseauthor",
        "news.delete_releaseauthor",
        "news.view_releasesource", "news.add_releasesource", "news.change_releasesource",
        "news.delete_releasesource",
        "news.view_releasedocument", "news.add_releasedocument",
        "news.change_releasedocument", "news.delete_releasedocument",
        "news.view_releasephoto", "news.add_releasephoto", "news.change_releasephoto",
        "news.delete_releasephoto",
        "news.view_workflowevent",
        # The embargo list and what was sent (news/journalists/).
        "news.view_journalist", "news.add_journalist", "news.change_journalist",
        "news.view_embargoview", "news.view_subscriber", "news.view_delivery",
    ],
}  # fmt: skip


def setup_roles() -> dict[str, int]:
    """Create or update the groups so that each holds exactly its role's permissions."""
    result = {}
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        query = Q()
        for perm in perms:
            app_label, codename = perm.split(".")
            query |= Q(content_type__app_label=app_label, codename=codename)
        permissions = list(Permission.objects.filter(query))
        missing = set(perms) - {f"{p.content_type.app_label}.{p.codename}" for p in permissions}
        if missing:
            raise LookupError(f"permissions not found (run migrate first): {sorted(missing)}")
        group.permissions.set(permissions)
        result[name] = len(permissions)
    return result
