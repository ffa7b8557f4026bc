"""Users and groups in the newsroom admin: Django's own admins, with the role groups named in
the interface language ("Authors" reads "Авторы" in the Russian admin) and a link to the
invitation page, the usual way a colleague joins."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

User = get_user_model()


def group_label(group: Group) -> str:
    return gettext(group.name)


class TranslatedGroupsMixin:
    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups":
            field.label_from_instance = group_label
        return field


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class NewsroomUserAdmin(TranslatedGroupsMixin, UserAdmin):
    list_display = [*UserAdmin.list_display, "roles_column"]

    @admin.display(description=_("Role"))
    def roles_column(self, obj):
        return ", ".join(group_label(group) for group in obj.groups.all()) or "—"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")


@admin.register(Group)
class NewsroomGroupAdmin(GroupAdmin):
    list_display = ["name_column"]

    @admin.display(description=_("name"), ordering="name")
    def name_column(self, obj):
        return group_label(obj)
