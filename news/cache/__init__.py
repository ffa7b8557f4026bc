"""Infrastructure: the public page cache (`pages`), the middleware that answers warm pages
early (`middleware`), and the receivers that invalidate it when content changes
(`receivers`)."""

from news.cache.pages import generation, invalidate, public_page

__all__ = ["generation", "invalidate", "public_page"]
