from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from news.models import Author, Category, Release, ReleaseAuthor, ReleaseSource, WorkflowEvent


class ReleaseAuthorInline(admin.TabularInline):
    model = ReleaseAuthor
    autocomplete_fields = ["author"]
    extra = 0


class ReleaseSourceInline(admin.TabularInline):
    model = ReleaseSource
    extra = 0


@admin.register(Release)
class ReleaseAdmin(SimpleHistoryAdmin):
    list_display = ["title_ru", "status", "published_at", "ru_complete", "en_complete"]
    list_filter = ["status", "categories"]
    search_fields = ["title_ru", "title_en"]
    inlines = [ReleaseAuthorInline, ReleaseSourceInline]
    readonly_fields = ["status", "slug", "version"]


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name_ru", "name_en", "position_ru"]
    search_fields = ["name_ru", "name_en"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name_ru", "name_en", "slug"]
    search_fields = ["name_ru", "name_en"]


@admin.register(WorkflowEvent)
class WorkflowEventAdmin(admin.ModelAdmin):
    list_display = ["release", "from_status", "to_status", "actor", "created_at"]
    list_filter = ["to_status"]
