"""The newsroom's admin site: Django's admin with the press service's name, the review queue on
the index page and the interface language rule. Installed as the default admin site through
`news.apps.NewsroomAdminConfig` (INSTALLED_APPS), so `django.contrib.admin.site` is this site."""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminPasswordChangeForm
from django.contrib.auth import authenticate
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation.trans_real import parse_accept_lang_header

INTERFACE_LANGUAGES = ("ru", "en")


def interface_language(request) -> str:
    """The newsroom speaks Russian to those who ask for it and English to everyone else: the
    language chosen with the header switch (cookie) first, then the first of the browser's
    languages that the newsroom speaks, else English. (The public site instead falls back to
    Russian, its primary language.)"""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if chosen in INTERFACE_LANGUAGES:
        return chosen
    for tag, _quality in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        language = tag.split("-")[0].lower()
        if language in INTERFACE_LANGUAGES:
            return language
    return "en"


def speaking_interface_language(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        language = interface_language(request)
        if translation.get_language() != language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return view(request, *args, **kwargs)

    return wrapper


class ThrottledPasswordChangeForm(AdminPasswordChangeForm):
    """The old password is checked by `authenticate()`, like a sign-in: django-axes counts
    every wrong one and locks the account out (429) as it does on the login page."""

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        user = authenticate(self.request, username=self.user.get_username(), password=old_password)
        if user is None or user.pk != self.user.pk:
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class ThrottledPasswordChangeView(PasswordChangeView):
    form_class = ThrottledPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


class NewsroomAdminSite(admin.AdminSite):
    site_header = _("Press service: newsroom")
    site_title = _("Newsroom")
    index_title = _("Newsroom")

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every model admin's change list bounds its date filters (`BoundedDatesChangeList`):
        also those of contrib and third-party apps (axes' attempts, users)."""
        from news.newsroom.changelist import BoundedDatesChangeList

        admin_class = admin_class or admin.ModelAdmin
        if admin_class.get_changelist is admin.ModelAdmin.get_changelist:
            admin_class = type(
                admin_class.__name__,
                (admin_class,),
                {
                    "__module__": admin_class.__module__,
                    "get_changelist": lambda self, request, **kwargs: BoundedDatesChangeList,
                },
            )
        return super().register(model_or_iterable, admin_class, **options)

    def password_change(self, request, extra_context=None):
        """Django's admin password change with `ThrottledPasswordChangeForm` (which needs the
        request, so the view passes it)."""
        url = reverse("admin:password_change_done", current_app=self.name)
        request.current_app = self.name
        return ThrottledPasswordChangeView.as_view(
            success_url=url,
            extra_context={**self.each_context(request), **(extra_context or {})},
        )(request)

    def admin_view(self, view, cacheable=False):
        return super().admin_view(speaking_interface_language(view), cacheable)

    # login and logout are not wrapped by admin_view; they follow the same language rule.
    def login(self, request, extra_context=None):
        return speaking_interface_language(super().login)(request, extra_context)

    def logout(self, request, extra_context=None):
        return speaking_interface_language(super().logout)(request, extra_context)

    def get_urls(self):
        from django.urls import path

        from news.newsroom import invitations

        welcome = speaking_interface_language  # open to the invited person, not signed in yet
        return [
            path(
                "invite/",
                self.admin_view(functools.partial(invitations.invite_view, self)),
                name="invite_colleague",
            ),
            path(
                "welcome/<uidb64>/<token>/",
                welcome(invitations.AcceptInvitationView.as_view()),
                name="invitation_accept",
            ),
            path(
                "welcome/done/",
                welcome(invitations.InvitationDoneView.as_view()),
                name="invitation_done",
            ),
            *super().get_urls(),
        ]

    def index(self, request, extra_context=None):
        from news.newsroom.releases import newsroom_queue

        context = {"newsroom_queue": newsroom_queue(request)}
        context.update(extra_context or {})
        return super().index(request, context)
