from django.contrib.syndication.views import Feed
from django.http import JsonResponse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import get_language

from news.models import Category, Release


class RssFeed(Feed):
    title = "Press releases"
    link = "/"

    def items(self):
        return Release.objects.published(get_language())[:50]

    def item_title(self, item):
        return item.title(get_language())

    def item_description(self, item):
        return item.lead(get_language())

    def item_link(self, item):
        return item.get_absolute_url(get_language())


class AtomFeed(RssFeed):
    feed_type = Atom1Feed


class CategoryRssFeed(RssFeed):
    def get_object(self, request, slug):
        return Category.objects.get(slug=slug)

    def items(self, category):
        return Release.objects.published(get_language()).filter(categories=category)[:50]


class CategoryAtomFeed(CategoryRssFeed):
    feed_type = Atom1Feed


def json_feed(request):
    return JsonResponse({"version": "https://jsonfeed.org/version/1.1", "items": []})
