"""The public pages of subscriptions and the embargoed copy. Nothing here is kept by the page
cache (they are personal or carry a form)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from news.journalists import embargo as embargo_service
from news.journalists import subscriptions
from news.journalists.forms import PreferencesForm, SubscribeForm
from news.journalists.models import EmbargoView
from news.models import Category
from news.public.seo import language_switch, seo_context, url_in
from news.public.site import other_language
from news.public.views import current_language, detail_context, layout_context
from pressservice.proxy import client_ip

THROTTLE_SECONDS = 3600


def _page(request, template: str, context: dict, *, title: str, status: int = 200, same: str = ""):
    """A page in the site's layout; `same` names the view of this page in the other language
    (token pages have none: the switch leads to the news list)."""
    language = current_language()
    switch = (
        language_switch(language, url_in(other_language(language), same))
        if same
        else language_switch(language, "", exists=False)
    )
    context = {
        **layout_context(language),
        "seo": seo_context(
            title=title, description="", path=request.path, language=language, noindex=True
        ),
        "switch": switch,
        **context,
    }
    return render(request, template, context, status=status)


def throttled(request, email: str) -> bool:
    """Counts this attempt; True when the address or the client has made more than
    SUBSCRIBE_LIMIT_PER_HOUR attempts within the hour."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    keys = [f"subscribe:client:{client_ip(request)}", f"subscribe:email:{digest}"]
    over = False
    for key in keys:
        cache.add(key, 0, THROTTLE_SECONDS)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, THROTTLE_SECONDS)
            count = 1
        over = over or count > settings.SUBSCRIBE_LIMIT_PER_HOUR
    return over


def feed_links(language: str) -> list[dict]:
    """The feeds of this language, all news and per category, for the subscribe page."""
    links = [
        {
            "name": _("All news"),
            "rss": reverse("news:rss"),
            "atom": reverse("news:atom"),
            "json": reverse("news:json_feed"),
        }
    ]
    for category in Category.objects.order_by("name_ru"):
        links.append(
            {
                "name": category.name(language),
                "rss": reverse("news:category_rss", kwargs={"slug": category.slug}),
                "atom": reverse("news:category_atom", kwargs={"slug": category.slug}),
            }
        )
    return links


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request):
    """The form; a valid submission always answers the same page, known address or not."""
    language = current_language()
    form = SubscribeForm(request.POST or None, language=language)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if throttled(request, data["email"]):
            form.add_error(None, _("Too many attempts. Please try again in an hour."))
            status = 429
        else:
            try:
                subscriptions.subscribe(
                    data["email"],
                    language=language,
                    categories=data["categories"],
                    frequency=data["frequency"],
                    digest_hour=data["digest_hour"],
                )
            except ValidationError as error:
                form.add_error("email", error)
            else:
                return _page(request, "news/subscribe_sent.html", {}, title=_("Check your mailbox"))
    elif request.method == "POST":
        status = 400
    return _page(
        request,
        "news/subscribe.html",
        {"form": form, "feeds": feed_links(language)},
        title=_("Subscribe to the news"),
        status=status,
        same="news:subscribe",
    )


def _subscriber(token: str, purpose: str):
    try:
        return subscriptions.subscriber_from_token(token, purpose=purpose)
    except signing.BadSignature as error:
        raise Http404(_("This link is not valid.")) from error


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token: str):
    """GET shows a button and changes nothing (mail scanners follow links in messages: their
    visit must not subscribe anyone); the button's POST (with its CSRF token) confirms."""
    subscriber = _subscriber(token, "confirm")
    if request.method != "POST":
        return _page(
            request,
            "news/subscription_confirm.html",
            {"email": subscriber.email},
            title=_("Confirm your subscription"),
        )
    subscriptions.confirm(subscriber)
    return _page(
        request,
        "news/subscription_confirmed.html",
        {
            "preferences_url": subscriptions.link(
                "news:preferences", subscriber.language, subscriptions.manage_token(subscriber)
            )
        },
        title=_("Subscription confirmed"),
    )


@never_cache
@csrf_exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" without a form token
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    """GET shows a button; POST (the button, or a mail client's one-click) unsubscribes."""
    subscriber = _subscriber(token, "manage")
    done = request.method == "POST"
    if done:
        subscriptions.unsubscribe(subscriber)
    return _page(
        request,
        "news/unsubscribe.html",
        {"done": done, "email": subscriber.email},
        title=_("Unsubscribe"),
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request, token: str):
    subscriber = _subscriber(token, "manage")
    language = current_language()
    initial = {
        "categories": list(subscriber.categories.all()),
        "frequency": subscriber.frequency,
        "digest_hour": subscriber.digest_hour,
    }
    form = PreferencesForm(request.POST or None, initial=initial, language=language)
    saved = False
    if request.method == "POST" and form.is_valid():
        subscriptions.change_preferences(subscriber, **form.cleaned_data)
        saved = True
    return _page(
        request,
        "news/preferences.html",
        {
            "form": form,
            "saved": saved,
            "email": subscriber.email,
            "unsubscribe_url": subscriptions.link(
                "news:unsubscribe", subscriber.language, subscriptions.manage_token(subscriber)
            ),
        },
        title=_("Your subscription"),
        status=400 if request.method == "POST" and not saved else 200,
    )


def _private(response):
    response["Cache-Control"] = "no-store, private"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_safe
def embargoed_copy(request, token: str):
    """A journalist's embargoed copy: 404 for a tampered or foreign link, a revoked journalist
    or a release no longer scheduled; after the public moment, 302 to the public page. Every
    view is logged."""
    language = current_language()
    try:
        release, journalist = embargo_service.read_token(token)
    except signing.BadSignature as error:
        raise Http404(_("This link is not valid.")) from error
    if not embargo_service.link_is_alive(release, journalist) or language not in (
        journalist.languages
    ):
        raise Http404(_("This link is no longer valid."))
    if release.is_public(language):
        return _private(HttpResponseRedirect(release.get_absolute_url(language)))
    if not release.is_complete(language):
        raise Http404(_("This release has no version in this language."))
    EmbargoView.objects.create(
        journalist=journalist,
        release=release,
        language=language,
        ip=client_ip(request) or None,
        user_agent=request.headers.get("User-Agent", "")[:300],
    )
    # Its files open with this journalist's link, not a preview link of the newsroom's.
    context = detail_context(release, language, preview=True, access={"embargo": token})
    context["embargo_until"] = embargo_service.until_text(release, language)
    # Never the preview link of the other language: this journalist's own copy in it, if any.
    other = other_language(language)
    other_copy = other in journalist.languages and release.is_complete(other)
    context["switch"] = language_switch(
        language,
        url_in(other, "news:embargo", token=token) if other_copy else "",
        exists=other_copy,
    )
    return _private(render(request, "news/release_embargo.html", context))
