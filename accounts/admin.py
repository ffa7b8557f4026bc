"""The audit log (read-only, superusers only) and the reset of a lost second factor."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEntry
from accounts.second_factor import reset_second_factor

User = get_user_model()


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "username", "actor", "ip", "detail"]
    list_filter = ["action", ("at", admin.DateFieldListFilter)]
    search_fields = ["username", "detail", "ip", "actor__username"]
    date_hierarchy = "at"
    list_select_related = ["actor"]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# django-otp's own device admins would show TOTP secrets and let anyone with its permissions
# add devices for others; a lost device is reset with the action below instead.
for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)

# The user admin as the newsroom registered it (news/newsroom/users.py), plus the reset.
_UserAdmin = type(admin.site.get_model_admin(User))


class SecondFactorUserAdmin(_UserAdmin):
    actions = [*(_UserAdmin.actions or []), "reset_second_factor"]

    @admin.action(description=_("Reset the second factor (lost device)"))
    def reset_second_factor(self, request, queryset):
        if not request.user.is_superuser:
            self.message_user(
                request, _("Only a superuser may reset a second factor."), messages.ERROR
            )
            return
        users = list(queryset)
        for user in users:
            reset_second_factor(user, by=request.user, request=request)
        self.message_user(
            request,
            ngettext(
                "Second factor reset for %(count)d user: they set it up again at their next "
                "sign-in.",
                "Second factor reset for %(count)d users: they set it up again at their next "
                "sign-in.",
                len(users),
            )
            % {"count": len(users)},
            messages.SUCCESS,
        )


admin.site.unregister(User)
admin.site.register(User, SecondFactorUserAdmin)
