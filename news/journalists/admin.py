"""The newsroom's side of the journalists: the embargo list, "Send under embargo" for a
scheduled release, who opened an embargoed copy, the subscribers and the outbox."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from news.journalists import outbox
from news.journalists.embargo import is_under_embargo, send_under_embargo, until_text
from news.journalists.models import (
    Delivery,
    DeliveryState,
    EmbargoView,
    Journalist,
    Subscriber,
)
from news.models import LANGUAGES, Release

LANGUAGE_CHOICES = [("ru", gettext_lazy("Russian")), ("en", gettext_lazy("English"))]


class JournalistForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(
        label=gettext_lazy("languages"),
        choices=LANGUAGE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Journalist
        fields = ["name", "outlet", "email", "languages", "accredited_until", "active"]


class EmbargoForm(forms.Form):
    journalists = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Journalists (none ticked: all accredited for the release's languages)"),
        queryset=Journalist.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["journalists"].queryset = Journalist.objects.accredited()


@admin.register(Journalist)
class JournalistAdmin(admin.ModelAdmin):
    form = JournalistForm
    list_display = ["name", "outlet", "email", "languages", "accredited_until", "active"]
    list_filter = ["active", "accredited_until"]
    search_fields = ["name", "outlet", "email"]

    def get_urls(self):
        return [
            path(
                "embargo/<int:release_id>/",
                self.admin_site.admin_view(self.send_view),
                name="news_journalist_send_embargo",
            ),
            *super().get_urls(),
        ]

    def send_view(self, request, release_id: int):
        """Send a scheduled release under embargo to the ticked (or all accredited)
        journalists."""
        if not request.user.has_perm("news.publish_release"):
            raise PermissionDenied
        release = Release.objects.filter(pk=release_id).first()
        if release is None:
            raise Http404(_("No such release."))
        change_url = reverse("admin:news_release_change", args=[release.pk])
        form = EmbargoForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            chosen = form.cleaned_data["journalists"] or None
            try:
                deliveries = send_under_embargo(release, by=request.user, journalists=chosen)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    _("Sent under embargo to %(count)d journalists.") % {"count": len(deliveries)},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Send under embargo"),
            "release": release,
            "scheduled": is_under_embargo(release),
            "until": until_text(release, "ru") if release.published_at else "",
            "languages": [lang for lang in LANGUAGES if release.is_complete(lang)],
            "form": form,
            "change_url": change_url,
            "opts": Release._meta,
            "views": EmbargoView.objects.filter(release=release).select_related("journalist"),
        }
        return render(request, "admin/news/journalist/send_embargo.html", context)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EmbargoView)
class EmbargoViewAdmin(ReadOnlyAdmin):
    list_display = ["viewed_at", "journalist", "release", "language", "ip"]
    list_filter = ["language"]
    list_select_related = ["journalist", "release"]
    search_fields = ["journalist__name", "journalist__email", "release__title_ru"]


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "language", "frequency", "confirmed_at", "unsubscribed_at"]
    list_filter = ["language", "frequency"]
    search_fields = ["email"]
    readonly_fields = ["created_at", "confirmed_at", "unsubscribed_at"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "to", "subject", "state", "attempts", "sent_at", "last_error"]
    list_filter = ["state"]
    search_fields = ["to", "subject", "key"]
    actions = ["send_again"]

    @admin.action(description=gettext_lazy("Send again (failed, or left being sent)"))
    def send_again(self, request, queryset):
        """A person's decision: a message left "being sent" by a dead worker may already have
        arrived, so only an editor sends it again."""
        if not request.user.has_perm("news.publish_release"):
            raise PermissionDenied
        with transaction.atomic():
            chosen = list(queryset.filter(state__in=[DeliveryState.FAILED, DeliveryState.SENDING]))
            Delivery.objects.filter(pk__in=[d.pk for d in chosen]).update(
                state=DeliveryState.PENDING, attempts=0, next_attempt_at=timezone.now()
            )
            for delivery in chosen:
                delivery.state = DeliveryState.PENDING
            outbox.enqueue(chosen)
        self.message_user(
            request, _("Queued again: %(count)d.") % {"count": len(chosen)}, messages.SUCCESS
        )
