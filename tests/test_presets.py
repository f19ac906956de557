"""Import presets: every shipped export read end to end, wrong kinds refused, time zones.

The fixtures are small files in the shape of the real exports (see the header comment of
each preset file for where that shape comes from); their content is invented.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from helpers import Klopt, write
from klopt.errors import InputError, MissingColumn
from klopt.listening.base import READERS, reader_for, time_zone
from klopt.listening.mentions import ImportResult, import_mentions
from klopt.listening.presets import load_presets, plan_import, preset
from klopt.store import Store
from klopt.store.models import Post

DOCS = Path(__file__).resolve().parents[1] / "docs" / "presets.md"

BRANDWATCH = """\
"Report:","Mentions"
"Brand:","Voorbeeld BV"
"From:","2026-07-01 00:00:00.0"
"To:","2026-07-31 23:59:59.0"
"Label:",""

"Query Id","Query Name","Date","Title","Snippet","Url","Domain","Sentiment","Page Type",\
"Language","Author","Full Name","Full Text","Mention Id","Resource Id","Reach (new)"
"2001234567","Voorbeeld BV","2026-07-03 09:15:00.0","","Pakket na 3 dagen nog niet…",\
"https://x.com/anna_b/status/1811","x.com","negative","twitter","nl","anna_b","Anna B",\
"Pakket na 3 dagen nog niet binnen, terwijl jullie 24 uur beloven.","1811","r-1811","1,200"
"2001234567","Voorbeeld BV","2026-07-04 18:30:00.0","Klachten over levering",\
"Voorbeeld BV belooft levering binnen 24 uur, maar klanten klagen.",\
"https://nieuws.example/artikel/778","nieuws.example","neutral","news","nl","","Redactie","",\
"","res-778",""
"2001234567","Voorbeeld BV","2026-07-05 08:00:00.0","","","https://forum.example/t/9",\
"forum.example","neutral","forum","nl","kees","","","9","r-9","12"
"""

TALKWALKER = """\
url;published;title;content;lang;source_type;extra_author_attributes.name;\
extra_author_attributes.short_name;reach;engagement
https://x.com/bram_nl/status/2201;03/07/2026 21:05;;Bestelling kwam binnen 12 uur, top service!;\
nl;TWITTER;Bram;bram_nl;350;4
https://forum.example/t/levering-88;2026-07-05T10:00:00Z;Levering;\
"Wachten op mijn retour, al 10 dagen; niemand reageert.";nl;FORUM;Kees;;;
"""

MELTWATER = (
    "Voorbeeld BV - juli 2026\n"
    "Date\tHeadline\tURL\tOpening Text\tHit Sentence\tSource\tInfluencer\tCountry\tLanguage\t"
    "Reach\tSentiment\tAlternate Date Format\tTime\tTweet Id\n"
    "03-Jul-2026 09:15AM\t\thttps://twitter.com/cor_v/status/3301\t\t"
    "@voorbeeldbv al 3 dagen geen antwoord van de klantenservice\tTwitter\t@cor_v\tNetherlands\t"
    "Dutch\t820\tNegative\t03-Jul-26\t09:15 AM\t3301\n"
    "04-Jul-2026 02:30PM\tVoorbeeld BV breidt bezorging uit\thttps://www.nu.example/economie/4401\t"
    "Voorbeeld BV gaat ook op zondag bezorgen.\t"
    "Vanaf augustus bezorgt Voorbeeld BV ook op zondag, meldt het bedrijf.\tNU.example\t"
    "Redactie Economie\tNetherlands\tDutch\t150000\tNeutral\t04-Jul-26\t02:30 PM\t\n"
)


def _tweet(post_id: str, created: str, text: str, lang: str) -> dict[str, Any]:
    return {
        "tweet": {
            "edit_info": {"initial": {"editTweetIds": [post_id], "editableUntil": created}},
            "retweeted": False,
            "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
            "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
            "display_text_range": ["0", str(len(text))],
            "favorite_count": "12",
            "id_str": post_id,
            "truncated": False,
            "retweet_count": "3",
            "id": post_id,
            "created_at": created,
            "favorited": False,
            "full_text": text,
            "lang": lang,
        }
    }


X_ARCHIVE = "window.YTD.tweets.part0 = " + json.dumps(
    [
        _tweet(
            "1808800000000000001",
            "Fri Jul 03 07:15:00 +0000 2026",
            "Goed nieuws: vanaf vandaag bezorgen we ook op zondag. Bestel voor 22.00 uur!",
            "nl",
        ),
        _tweet(
            "1808800000000000002",
            "Fri Jul 03 08:00:00 +0000 2026",
            "RT @klant_anna: Top service van @voorbeeldbv, binnen een dag in huis!",
            "nl",
        ),
        _tweet(
            "1808800000000000003",
            "Sat Jul 04 16:00:00 +0000 2026",
            "@tourist_tom We deliver within 24 hours, also to Belgium.",
            "en",
        ),
    ],
    indent=2,
)

ACTOR = "https://mastodon.example/users/voorbeeldbv"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _create(number: int, published: str, content: Any, **extra: Any) -> dict[str, Any]:
    status = f"{ACTOR}/statuses/11000000000000000{number}"
    to = extra.pop("to", [PUBLIC])
    note = {
        "id": status,
        "type": "Note",
        "summary": None,
        "inReplyTo": None,
        "published": published,
        "url": f"https://mastodon.example/@voorbeeldbv/11000000000000000{number}",
        "attributedTo": ACTOR,
        "to": to,
        "cc": [f"{ACTOR}/followers"] if PUBLIC in to else [],
        "sensitive": False,
        "content": content,
        "attachment": [],
        "tag": [],
        **extra,
    }
    return {
        "id": f"{status}/activity",
        "type": "Create",
        "actor": ACTOR,
        "published": published,
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
    }


OUTBOX_ITEMS = [
    _create(
        1,
        "2026-07-03T07:15:00Z",
        '<p>Vanaf vandaag bezorgen we ook op zondag.</p><p>Meer info: <a href="https://'
        'voorbeeld.example/zondag" rel="nofollow noopener" target="_blank"><span class="invisible">'
        'https://</span><span class="">voorbeeld.example/zondag</span><span class="invisible">'
        "</span></a></p>",
        contentMap={"nl": "<p>Vanaf vandaag bezorgen we ook op zondag.</p>"},
    ),
    {
        "id": f"{ACTOR}/statuses/110000000000000002/activity",
        "type": "Announce",
        "actor": ACTOR,
        "published": "2026-07-03T09:00:00Z",
        "to": [PUBLIC],
        "cc": [],
        "object": "https://other.example/users/klant/statuses/5501",
    },
    {
        "id": f"{ACTOR}/statuses/110000000000000003/activity",
        "type": "Create",
        "actor": ACTOR,
        "published": "2026-07-03T10:00:00Z",
        "object": {"id": f"{ACTOR}/statuses/110000000000000003", "type": "Tombstone"},
    },
    _create(
        4,
        "2026-07-04T12:00:00Z",
        "<p>@klant mag ik uw ordernummer?</p>",
        to=["https://other.example/users/klant"],
    ),
    _create(
        5,
        "2026-07-05T09:30:00Z",
        "<p>We&#39;re hiring: <br>drivers in Utrecht &amp; Amersfoort</p>",
        contentMap={"en": "<p>We&#39;re hiring</p>"},
    ),
]

OUTBOX = json.dumps(
    {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "outbox.json",
        "type": "OrderedCollection",
        "totalItems": len(OUTBOX_ITEMS),
        "orderedItems": OUTBOX_ITEMS,
    },
    indent=2,
)

# Facebook and Instagram write UTF-8 bytes as \u00XX escapes: "é" is \u00c3\u00a9.
FACEBOOK = r"""[
  {
    "timestamp": 1783070100,
    "data": [
      {"post":
"Wij leveren binnen 24 uur \u00e2\u0080\u0094 ook in de zomer. Groeten uit ons caf\u00c3\u00a9!"},
      {"update_timestamp": 1783070160}
    ],
    "title": "Voorbeeld BV"
  },
  {
    "timestamp": 1783156500,
    "attachments": [{"data": [{"media": {"uri": "posts/media/photos/zomer.jpg",
      "creation_timestamp": 1783156500, "title": ""}}]}],
    "title": "Voorbeeld BV added a new photo."
  },
  {
    "timestamp": 1783242900,
    "data": [{"post": "Retourneren blijft gratis \u00f0\u009f\u0093\u00a6"}]
  }
]
"""

INSTAGRAM = r"""[
  {
    "media": [
      {"uri": "media/posts/202607/17900000000000001.jpg", "creation_timestamp": 1783070100,
       "media_metadata": {"camera_metadata": {"has_camera_metadata": false}}, "title": "",
       "cross_post_source": {"source_app": "FB"}, "backup_uri": "https://example.invalid/a"},
      {"uri": "media/posts/202607/17900000000000002.jpg", "creation_timestamp": 1783070100,
       "title": "", "cross_post_source": {"source_app": "FB"}}
    ],
    "title":
      "Nieuw: bezorging op zondag \u00f0\u009f\u0093\u00a6 Proost vanuit ons caf\u00c3\u00a9",
    "creation_timestamp": 1783070100
  },
  {
    "media": [
      {"uri": "media/posts/202607/17900000000000003.jpg", "creation_timestamp": 1783156500,
       "title": "Onze chauffeurs in het zonnetje \u00e2\u0098\u0080\u00ef\u00b8\u008f",
       "cross_post_source": {"source_app": "FB"}}
    ]
  },
  {
    "media": [
      {"uri": "media/posts/202607/17900000000000004.jpg", "creation_timestamp": 1783242900,
       "title": ""}
    ]
  }
]
"""

LINKEDIN = """\
Date,ShareLink,ShareCommentary,SharedUrl,MediaUrl,Visibility
2026-07-03 07:15:00,https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A7211111111111111111,\
\"\"\"Vanaf vandaag bezorgen we ook op zondag.\"\"
\"\"Lees meer op onze site.\"\"\",https://voorbeeld.example/zondag,,MEMBER_NETWORK
2026-07-05 12:00:00,https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A7222222222222222222,\
"We zoeken chauffeurs in Utrecht ""en"" Amersfoort.",,,MEMBER_NETWORK
"""


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 7, day, hour, minute, tzinfo=UTC)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _posts(store: Store) -> list[tuple[Any, ...]]:
    columns = (
        Post.kind,
        Post.platform,
        Post.external_id,
        Post.text,
        Post.posted_at,
        Post.url,
        Post.author,
        Post.reach,
        Post.language,
    )
    with store.session() as session:
        return list(session.execute(select(*columns).order_by(Post.id)).tuples())


def _import(store: Store, path: Path, name: str, **options: Any) -> ImportResult:
    encoding = options.pop("encoding", "utf-8-sig")
    plan = plan_import(name, path, encoding=encoding, **options)
    return import_mentions(
        store,
        None,
        path,
        plan.mapping,
        actor="tester",
        format=plan.format,
        encoding=encoding,
        kind=plan.kind,
        reader=plan.reader,
    )


def _skipped(result: ImportResult, lang: str = "en") -> list[tuple[int, str]]:
    return [(p.line, p.text(lang)) for p in result.problems]


# --- the presets themselves ----------------------------------------------------------------


def test_every_preset_loads_names_a_reader_and_is_documented() -> None:
    presets = load_presets()
    assert list(presets) == [
        "brandwatch",
        "facebook-page",
        "instagram",
        "linkedin",
        "mastodon-outbox",
        "meltwater",
        "talkwalker",
        "x-archive",
    ]
    reader_for(Path("x.csv"))  # registers the built-in readers
    docs = DOCS.read_text(encoding="utf-8")
    for item in presets.values():
        assert item.reader in READERS, item.id
        assert item.describe("nl") != item.describe("en"), item.id
        assert f"`{item.id}`" in docs, item.id
    own = {p.id for p in presets.values() if p.own}
    assert own == {"x-archive", "mastodon-outbox", "facebook-page", "instagram", "linkedin"}


def test_an_unknown_preset_lists_the_presets() -> None:
    with pytest.raises(InputError) as caught:
        preset("hootsuite")
    assert str(caught.value) == (
        "There is no preset 'hootsuite'. Use one of: brandwatch, facebook-page, instagram, "
        "linkedin, mastodon-outbox, meltwater, talkwalker, x-archive "
        "(klopt mentions presets describes them)."
    )


# --- listening tools -----------------------------------------------------------------------


def test_brandwatch_skips_the_report_lines_and_falls_back_to_the_snippet(
    store: Store, tmp_path: Path
) -> None:
    result = _import(store, write(tmp_path, "brandwatch.csv", BRANDWATCH), "brandwatch")
    assert (result.read, result.imported, result.skipped, result.naive_times) == (3, 2, 1, 2)
    assert _skipped(result) == [(10, "the text column 'Full Text' is empty")]
    assert _posts(store) == [
        (
            "mention",
            "x",
            "1811",
            "Pakket na 3 dagen nog niet binnen, terwijl jullie 24 uur beloven.",
            _at(3, 9, 15),
            "https://x.com/anna_b/status/1811",
            "anna_b",
            1200,
            "nl",
        ),
        (
            "mention",
            "news",
            "res-778",
            "Voorbeeld BV belooft levering binnen 24 uur, maar klanten klagen.",
            _at(4, 18, 30),
            "https://nieuws.example/artikel/778",
            "Redactie",
            None,
            "nl",
        ),
    ]


def test_times_without_a_zone_are_read_in_the_zone_given(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "brandwatch.csv", BRANDWATCH)
    result = _import(store, path, "brandwatch", timezone=time_zone("Europe/Amsterdam"))
    assert result.naive_times == 2  # still counted: the file did not say
    assert [p[4] for p in _posts(store)] == [_at(3, 7, 15), _at(4, 16, 30)]


def test_a_column_option_overrides_the_preset(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "brandwatch.csv", BRANDWATCH)
    result = _import(store, path, "brandwatch", columns={"text": "Title"}, platform="web")
    assert (result.imported, result.skipped) == (1, 2)
    assert [(p[1], p[3]) for p in _posts(store)] == [("news", "Klachten over levering")]


def test_talkwalker_reads_semicolons_and_day_first_times(store: Store, tmp_path: Path) -> None:
    result = _import(store, write(tmp_path, "talkwalker.csv", TALKWALKER), "talkwalker")
    assert (result.imported, result.skipped, result.naive_times) == (2, 0, 1)
    assert _posts(store) == [
        (
            "mention",
            "x",
            "https://x.com/bram_nl/status/2201",
            "Bestelling kwam binnen 12 uur, top service!",
            _at(3, 21, 5),
            "https://x.com/bram_nl/status/2201",
            "bram_nl",
            350,
            "nl",
        ),
        (
            "mention",
            "forum",
            "https://forum.example/t/levering-88",
            "Wachten op mijn retour, al 10 dagen; niemand reageert.",
            _at(5, 10),
            "https://forum.example/t/levering-88",
            "Kees",
            None,
            "nl",
        ),
    ]


def test_meltwater_reads_utf16_tabs_and_maps_sources_and_languages(
    store: Store, tmp_path: Path
) -> None:
    path = write(tmp_path, "meltwater.csv", MELTWATER.encode("utf-16"))
    result = _import(store, path, "meltwater")
    assert (result.imported, result.skipped, result.naive_times) == (2, 0, 2)
    assert _posts(store) == [
        (
            "mention",
            "x",
            "3301",
            "@voorbeeldbv al 3 dagen geen antwoord van de klantenservice",
            _at(3, 9, 15),
            "https://twitter.com/cor_v/status/3301",
            "@cor_v",
            820,
            "nl",
        ),
        (
            "mention",
            "web",
            "https://www.nu.example/economie/4401",
            "Vanaf augustus bezorgt Voorbeeld BV ook op zondag, meldt het bedrijf.",
            _at(4, 14, 30),
            "https://www.nu.example/economie/4401",
            "Redactie Economie",
            150000,
            "nl",
        ),
    ]


# --- the organisation's own archives -------------------------------------------------------


def test_an_x_archive_is_own_posts_with_urls_and_retweets_skipped(
    store: Store, tmp_path: Path
) -> None:
    result = _import(store, write(tmp_path, "tweets.js", X_ARCHIVE), "x-archive")
    assert (result.read, result.imported, result.skipped, result.naive_times) == (3, 2, 1, 0)
    assert _skipped(result) == [(2, "a repost of someone else's post (RT @...)")]
    assert _posts(store) == [
        (
            "own",
            "x",
            "1808800000000000001",
            "Goed nieuws: vanaf vandaag bezorgen we ook op zondag. Bestel voor 22.00 uur!",
            _at(3, 7, 15),
            "https://x.com/i/web/status/1808800000000000001",
            None,
            None,
            "nl",
        ),
        (
            "own",
            "x",
            "1808800000000000003",
            "@tourist_tom We deliver within 24 hours, also to Belgium.",
            _at(4, 16),
            "https://x.com/i/web/status/1808800000000000003",
            None,
            None,
            "en",
        ),
    ]


def test_a_mastodon_outbox_skips_boosts_deleted_posts_and_direct_messages(
    store: Store, tmp_path: Path
) -> None:
    result = _import(store, write(tmp_path, "outbox.json", OUTBOX), "mastodon-outbox")
    assert (result.read, result.imported, result.skipped) == (5, 2, 3)
    assert _skipped(result) == [
        (2, "a boost (someone else's post shared by the account)"),
        (3, "a deleted post (Tombstone)"),
        (4, "a direct message (not public, not to the followers)"),
    ]
    assert _skipped(result, "nl")[0] == (
        2,
        "een boost (een bericht van iemand anders, gedeeld door het account)",
    )
    assert _posts(store) == [
        (
            "own",
            "mastodon",
            f"{ACTOR}/statuses/110000000000000001",
            "Vanaf vandaag bezorgen we ook op zondag.\nMeer info: https://voorbeeld.example/zondag",
            _at(3, 7, 15),
            "https://mastodon.example/@voorbeeldbv/110000000000000001",
            ACTOR,
            None,
            "nl",
        ),
        (
            "own",
            "mastodon",
            f"{ACTOR}/statuses/110000000000000005",
            "We're hiring:\ndrivers in Utrecht & Amersfoort",
            _at(5, 9, 30),
            "https://mastodon.example/@voorbeeldbv/110000000000000005",
            ACTOR,
            None,
            "en",
        ),
    ]


def test_a_facebook_export_has_its_mojibake_repaired(store: Store, tmp_path: Path) -> None:
    result = _import(store, write(tmp_path, "your_posts_1.json", FACEBOOK), "facebook-page")
    assert (result.imported, result.skipped) == (2, 1)
    assert _skipped(result) == [(2, "a post without text (only a photo, a link or an event)")]
    first = "Wij leveren binnen 24 uur — ook in de zomer. Groeten uit ons café!"
    second = "Retourneren blijft gratis 📦"
    assert _posts(store) == [
        ("own", "facebook", f"1783070100-{_digest(first)}", first, _at(3, 9, 15))
        + (None, None, None, None),
        ("own", "facebook", f"1783242900-{_digest(second)}", second, _at(5, 9, 15))
        + (None, None, None, None),
    ]


def test_an_instagram_export_takes_the_caption_of_a_single_photo(
    store: Store, tmp_path: Path
) -> None:
    result = _import(store, write(tmp_path, "posts_1.json", INSTAGRAM), "instagram")
    assert (result.imported, result.skipped) == (2, 1)
    assert _skipped(result) == [(3, "a post without text (only a photo, a link or an event)")]
    assert [p[:5] for p in _posts(store)] == [
        (
            "own",
            "instagram",
            "media/posts/202607/17900000000000001.jpg",
            "Nieuw: bezorging op zondag 📦 Proost vanuit ons café",
            _at(3, 9, 15),
        ),
        (
            "own",
            "instagram",
            "media/posts/202607/17900000000000003.jpg",
            "Onze chauffeurs in het zonnetje ☀️",
            _at(4, 9, 15),
        ),
    ]


def test_linkedin_shares_lose_their_extra_quotes(store: Store, tmp_path: Path) -> None:
    result = _import(store, write(tmp_path, "Shares.csv", LINKEDIN), "linkedin")
    assert (result.imported, result.skipped, result.naive_times) == (2, 0, 2)
    share = "https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A72"
    assert [p[:6] for p in _posts(store)] == [
        (
            "own",
            "linkedin",
            f"{share}11111111111111111",
            "Vanaf vandaag bezorgen we ook op zondag.\nLees meer op onze site.",
            _at(3, 7, 15),
            f"{share}11111111111111111",
        ),
        (
            "own",
            "linkedin",
            f"{share}22222222222222222",
            'We zoeken chauffeurs in Utrecht "en" Amersfoort.',
            _at(5, 12),
            f"{share}22222222222222222",
        ),
    ]


def test_importing_an_archive_again_stores_nothing_twice(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "your_posts_1.json", FACEBOOK)
    _import(store, path, "facebook-page")
    again = _import(store, path, "facebook-page")
    assert (again.imported, again.duplicates, again.skipped) == (0, 2, 1)


# --- the wrong kind of export --------------------------------------------------------------


def test_an_export_of_another_kind_is_refused_with_the_preset_that_fits(tmp_path: Path) -> None:
    path = write(tmp_path, "meltwater.csv", MELTWATER.encode("utf-16"))
    with pytest.raises(MissingColumn) as caught:
        plan_import("brandwatch", path)
    assert str(caught.value) == (
        "'meltwater.csv' does not look like an export from Brandwatch: it lacks Query Id, Url, "
        "Full Text (it has: Date, Headline, URL, Opening Text, Hit Sentence, Source, "
        "Influencer, Country, Language, Reach, Sentiment, Alternate Date Format ...). "
        "It looks like an export from Meltwater: use --preset meltwater."
    )
    assert caught.value.localized("nl").endswith(
        "Het lijkt een export van Meltwater: gebruik --preset meltwater."
    )


@pytest.mark.parametrize(
    ("name", "content", "chosen", "fits"),
    [
        ("your_posts_1.json", FACEBOOK, "instagram", "facebook-page"),
        ("posts_1.json", INSTAGRAM, "facebook-page", "instagram"),
        ("outbox.json", OUTBOX, "x-archive", "mastodon-outbox"),
        ("tweets.js", X_ARCHIVE, "mastodon-outbox", "x-archive"),
        ("Shares.csv", LINKEDIN, "talkwalker", "linkedin"),
        ("talkwalker.csv", TALKWALKER, "meltwater", "talkwalker"),
        ("brandwatch.csv", BRANDWATCH, "linkedin", "brandwatch"),
    ],
)
def test_each_archive_is_recognised_when_given_to_another_preset(
    tmp_path: Path, name: str, content: str, chosen: str, fits: str
) -> None:
    with pytest.raises(MissingColumn) as caught:
        plan_import(chosen, write(tmp_path, name, content))
    assert caught.value.key == "presets.wrong_kind_other"
    assert caught.value.values["other_id"] == fits


def test_a_file_that_fits_no_preset_says_what_it_lacks(tmp_path: Path) -> None:
    path = write(tmp_path, "export.csv", "id;body;created\n1;Hallo;2026-07-03\n")
    with pytest.raises(MissingColumn) as caught:
        plan_import("talkwalker", path)
    assert str(caught.value) == (
        "'export.csv' does not look like an export from Talkwalker: it lacks url, published, "
        "content (it has: id, body, created). Check that this is the file the export wrote, or "
        "pick the preset that fits from klopt mentions presets."
    )


def test_an_unknown_time_zone_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="'Mars/Olympus' is not a time zone klopt knows"):
        time_zone("Mars/Olympus")
    assert time_zone("utc") is UTC


# --- the command line ----------------------------------------------------------------------


def test_the_cli_imports_with_a_preset_and_a_time_zone(klopt: Klopt, tmp_path: Path) -> None:
    klopt("init", "Voorbeeld BV")
    path = write(tmp_path, "brandwatch.csv", BRANDWATCH)
    out = klopt(
        "mentions", "import", str(path), "--preset", "brandwatch", "--timezone", "Europe/Amsterdam"
    ).output
    assert "Read 3 rows: 2 imported, 0 already there, 1 skipped." in out
    assert "  line 10: the text column 'Full Text' is empty (skipped)" in out
    assert "2 times had no time zone and were taken as Europe/Amsterdam." in out


def test_the_cli_reports_skipped_records_in_dutch(klopt: Klopt, tmp_path: Path) -> None:
    klopt("init", "Voorbeeld BV")
    path = write(tmp_path, "outbox.json", OUTBOX)
    out = klopt("--lang", "nl", "mentions", "import", str(path), "--preset", "mastodon-outbox")
    assert "5 rijen gelezen: 2 geïmporteerd, 0 waren er al, 3 overgeslagen." in out.output
    assert "  record 3: een verwijderd bericht (Tombstone)" in out.output


def test_the_cli_refuses_the_wrong_kind_in_one_sentence(klopt: Klopt, tmp_path: Path) -> None:
    klopt("init", "Voorbeeld BV")
    path = write(tmp_path, "tweets.js", X_ARCHIVE)
    out = klopt("mentions", "import", str(path), "--preset", "facebook-page", code=1).output
    assert out.startswith(
        "error: 'tweets.js' does not look like an export from Facebook: it lacks timestamp ("
    )
    assert "It looks like an export from Twitter/X: use --preset x-archive." in out
    assert "Traceback" not in out
    bad_zone = klopt("mentions", "import", str(path), "--timezone", "Nowhere/Land", code=1)
    assert "'Nowhere/Land' is not a time zone klopt knows." in bad_zone.output


def test_the_cli_lists_the_presets_in_the_users_language(klopt: Klopt) -> None:
    out = klopt("mentions", "presets").output
    assert "Import presets" in out and "x-archive" in out and "own posts" in out
    dutch = klopt("--lang", "nl", "mentions", "presets").output
    assert "Importpresets" in dutch and "eigen berichten" in dutch and "vermeldingen" in dutch
