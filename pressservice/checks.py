"""System checks for production settings (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register(Tags.caches, deploy=True)
def shared_cache(app_configs, **kwargs):
    """Every worker must share the default cache, or a withdrawn release lingers in the
    workers that did not withdraw it."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if settings.DEBUG or backend not in PER_PROCESS_CACHES:
        return []
    return [
        Warning(
            f"The default cache is {backend.rsplit('.', 1)[-1]}, which each process keeps to "
            "itself: a release withdrawn in one worker (or from a management command) stays "
            "visible in the others.",
            hint="Unset CACHE_URL to use the shared database cache, or set it to Redis "
            "(redis://...).",
            id="pressservice.W001",
        )
    ]
