"""The source kinds klopt ships with; importing this module registers them.

A plug-in registers its own kind with :func:`klopt.listening.source.register_source` when
it is imported.
"""

from __future__ import annotations

from klopt.listening import (
    bluesky,  # noqa: F401  (bluesky: searches and authors' feeds)
    feeds,  # noqa: F401  (rss: RSS and Atom feeds)
    folder,  # noqa: F401  (file: an export file or a folder of them)
    mastodon,  # noqa: F401  (mastodon: hashtags, searches, an account)
    reddit,  # noqa: F401  (reddit: subreddits and searches)
)
