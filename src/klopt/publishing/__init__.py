"""Publishing: an approved draft or a care reply sent to the organisation's own accounts.

Issue 16, first part: the platform clients. :class:`Outgoing` is what goes out (text,
images with alt text, the post it answers); a channel sends it under a **key** that is
the same for every try of the same draft version, so that a try after a crash or a
server that failed after accepting cannot post twice:

* Mastodon (:mod:`klopt.publishing.mastodon`): ``POST /api/v1/statuses`` with the key as
  ``Idempotency-Key`` (the server answers a repeat with the status it made);
* Bluesky (:mod:`klopt.publishing.bluesky`): ``com.atproto.repo.createRecord`` with a
  record key derived from the key; a repeat finds the record already there and returns it.

Tokens are named by environment variables, as for sources: never stored, never logged.
The outbox that stores the intent before sending and publishes approved drafts at their
time is :mod:`klopt.editorial.outbox`.
"""

from __future__ import annotations

from klopt.publishing.outgoing import Image, Outgoing, Reach, ReplyTo, Sent

__all__ = ["Image", "Outgoing", "Reach", "ReplyTo", "Sent"]
