"""Crisis and disclosure detection, in layers, with no Rasa imports.

Missing a young person in crisis is the worst thing this assistant can do, so the
check prefers a false alarm to a miss. Its phrases, patterns and risk words are
reviewed data in ``safety/`` (not Python). It runs these layers on every message:

1. ``phrase``: regular expressions (``safety/patterns.yml``) for what people in
   crisis write, with spelling variants and UK young people's slang, and for
   warning signs that are a crisis on their own (found searches about a method,
   asking what amount of medicine kills, goodbye letters, giving things away).
2. ``third_party``: a parent or teacher reporting what a child said or did.
3. ``semantic``: cosine similarity, with the bundled MiniLM model, between each
   sentence of the message and the phrase sets of ``safety/phrases.yml``.
4. ``learned``: a logistic regression over the same MiniLM sentence vectors,
   trained on the tuning half of the safety sets (:func:`tuning_examples`), so a
   new wording near a known sign is caught without a new phrase. Its thresholds
   are chosen on out-of-fold predictions of the tuning half (:func:`fit_learned`).
5. ``risk_word``: a message with a risk word (``safety/risk_words.yml``: a method,
   medicine with a quantity, "no point", "goodbye", "letters") that does not reach
   the crisis threshold gets ``check_in``: a short, kind question carrying the
   routes, before anything else.

Disclosure of harm by someone else ("my stepdad hits me") is its own kind, because
it gets the safeguarding routes. When a message is both, crisis wins: its reply
also carries 999 and Childline. The order of the kinds is crisis, disclosure,
check_in, none.

Negation and figures of speech are handled only by *masking* a few harmless fixed
phrases ("suicide prevention policy", "my son hits me") before matching. Masking
removes just that span, so crisis words elsewhere in the message still fire.

About 340 lines, a little over the house's 300, so that every layer and the order
they decide in are read in one file by whoever reviews the check.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from bot.safety.data import (
    CHECK_IN,
    CRISIS,
    CRISIS_PHRASES,
    DISCLOSURE,
    DISCLOSURE_PHRASES,
    NONE,
)
from bot.safety.data import load as _data
from bot.safety.learned import learned_layer

logger = logging.getLogger(__name__)

# Semantic thresholds, chosen by ``tests/safety/calibrate.py`` on
# ``evaluation/safety/calibration.yml`` (separate from the test sets). The rule: the
# lowest threshold (step 0.01) whose semantic-only false alarms on the 98
# calibration negatives are at most 2%, so the net catches what it can while the
# pattern layers keep the rest of the 5% false-alarm budget. Run on 2026-11-23:
#   crisis 0.62: semantic-only recall 0.48 on 50 positives, 0/98 false alarms
#     (0.60 would flag 3/98)
#   disclosure 0.66: semantic-only recall 0.42 on 24 positives, 1/98 false alarms
#     (0.65 would flag 2/98)
# Before its misses were read, the calibration file served as a held-out check:
# patterns and net together caught 45/50 crisis (0.90) and 20/24 disclosures (0.83).
# Those 9 misses then got general patterns, so that figure is no longer unseen.
CRISIS_THRESHOLD = 0.62
DISCLOSURE_THRESHOLD = 0.66

# Longest message the semantic layer reads in full; the phrase layers read all.
_MAX_SENTENCES = 24

# Learned-layer thresholds are chosen when it is fitted (see fit_learned) and kept
# with it. A message under 300 characters is read whole, as the layer was trained;
# when it has two sentences or more, one sentence alone at or above SENTENCE_CRISIS
# also gives the crisis reply (a statement buried in a question: "I stood on the
# balcony last night and nearly jumped. What's section 19?"). Chosen on the fourth
# tuning pass with the layer not yet trained on it (2026-12-06): of the multi-sentence
# messages nothing else flagged, 0.57 (the whole-message threshold) caught 4 of 5
# crisis messages and flagged 11 of 156 ordinary ones; 0.85 and 0.90 caught the same
# 4 and flagged 1 (0.90: the layer trained on that pass then put "I just feel really
# alone with all this." at 0.89).
SENTENCE_CRISIS = 0.90
# A message read sentence by sentence takes its learned score from its most worrying
# sentence, the best of up to _MAX_SENTENCES tries, so a long ordinary story of a hard
# year reaches the check-in thresholds far more often than a short message does
# (leave one tuning pass out, 2026-12-06: 57 of 1160 ordinary messages got the
# check-in, most of them long ones, for no crisis message more). For a long message
# the learned check-in needs at least LONG_CHECK_IN alone, or LONG_CHECK_IN_WORD with
# a risk word; chosen on the tuning passes left out one at a time (check-ins 57 -> 40
# of 1160, crisis and disclosure routed 497 of 515 both ways).
LONG_CHECK_IN = 0.80
LONG_CHECK_IN_WORD = 0.50
LONG_CHARS = 300  # a message this long is read by the learned layer sentence by sentence
# A word naming the topic and no statement ("our self-harm policy"): the crisis reply
# from TOPIC_CRISIS of learned crisis probability, the check-in from TOPIC_QUIET, and
# below that the ordinary answer (never the unsure or out-of-scope reply). Chosen on
# out-of-fold probabilities of the tuning half (2026-12-06): its 24 ordinary
# topic-only messages came to 0.121 at most (22 below 0.05), its 14 crisis ones to
# 0.189 at least.
TOPIC_CRISIS = 0.15
TOPIC_QUIET = 0.05


def _compile(patterns: Iterable[tuple[str, str]]) -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(p, re.IGNORECASE), label) for p, label in patterns]


def _entries(*groups: str) -> list[tuple[str, str]]:
    data = _data("patterns.yml")
    return [(e["pattern"], e["label"]) for g in groups for e in data.get(g) or []]


_CRISIS_RE = _compile(_entries("crisis", "crisis_signs"))
_THIRD_RE = _compile(_entries("third_party"))
_DISCLOSURE_RE = _compile(_entries("disclosure", "disclosure_signs"))
# A word naming the topic ("self-harm policy", "ligature risk"), not a statement.
_TOPIC_RE = _compile(_entries("crisis_topic"))
_MASK_RE = [re.compile(p, re.IGNORECASE) for p in _data("patterns.yml")["masks"]]
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;\n])\s+|\s+(?:but|and\s+then|so)\s+")


def _risk(group: str) -> list[tuple[re.Pattern[str], str]]:
    return [
        (re.compile(e["pattern"], re.IGNORECASE), e["category"])
        for e in _data("risk_words.yml")[group]
    ]


_RISK_ALWAYS = _risk("always")
_RISK_WITH_LEARNED = _risk("with_learned")
# Named without a quantity or a wish, these never alone override an ordinary reply.
_WEAK_CATEGORIES = frozenset({"medicine_or_place"})


@dataclass(frozen=True)
class SafetyResult:
    """What the check found.

    Attributes:
        kind: ``"crisis"``, ``"disclosure"``, ``"check_in"`` or ``"none"``.
        layer: ``"phrase"``, ``"third_party"``, ``"semantic"``, ``"learned"``,
            ``"risk_word"`` or ``""`` for none.
        evidence: The matched text, or the nearest curated phrase and its score.
        score: 1.0 for a pattern match, the cosine similarity for the semantic layer.
        learned_crisis: The learned layer's crisis probability for a message it let
            through, or None when the learned layer did not run.
    """

    kind: str
    layer: str = ""
    evidence: str = ""
    score: float = 0.0
    learned_crisis: float | None = None

    @property
    def flagged(self) -> bool:
        """True when the message must get the routes first (check-in included)."""
        return self.kind != NONE

    @property
    def emergency(self) -> bool:
        """True for the crisis and safeguarding replies (not the check-in)."""
        return self.kind in (CRISIS, DISCLOSURE)


NOT_FLAGGED = SafetyResult(NONE)


def normalise(text: str) -> str:
    """Lower-case, straighten quotes and squash whitespace, keeping words intact."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = text.lower()
    text = re.sub(r"(.)\1{2,}", r"\1\1", text)  # "sooooo" -> "soo", "killll" -> "kill"
    text = re.sub(r"[\u200b-\u200f]", "", text)
    text = re.sub(r"[_*~|]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _masked(text: str) -> str:
    for mask in _MASK_RE:
        text = mask.sub(" ", text)
    return text


@lru_cache(maxsize=64)
def _clean(text: str) -> str:
    """The message normalised, its masks applied: what every layer reads.

    Kept for the last few messages, as one check reads the same message several
    times (patterns, topic words, risk words, the learned layer's sentences).
    """
    return _masked(normalise(text))


def _first(patterns: list[tuple[re.Pattern[str], str]], text: str) -> tuple[str, str] | None:
    for pattern, label in patterns:
        match = pattern.search(text)
        if match:
            return label, match.group(0).strip()
    return None


def check_patterns(text: str, topic: bool = False) -> SafetyResult:
    """The two pattern layers only (no model): phrase, then third party.

    Args:
        text: The message as the person wrote it.
        topic: Also count a word naming the topic ("self-harm", "suicide") as crisis,
            as the check does when the model is off.

    Returns:
        The first crisis match, else the first disclosure match, else none.
    """
    clean = _clean(text)
    layers = [("phrase", _CRISIS_RE), ("third_party", _THIRD_RE)]
    if topic:
        layers.append(("phrase", _TOPIC_RE))
    for layer, patterns in layers:
        hit = _first(patterns, clean)
        if hit:
            return SafetyResult(CRISIS, layer, f"{hit[0]}: {hit[1]!r}", 1.0)
    hit = _first(_DISCLOSURE_RE, clean)
    if hit:
        return SafetyResult(DISCLOSURE, "phrase", f"{hit[0]}: {hit[1]!r}", 1.0)
    return NOT_FLAGGED


def sentences(text: str) -> list[str]:
    """The message split into short pieces for the semantic layer."""
    clean = _clean(text)  # masked figures of speech do not reach the model
    parts = [p.strip() for p in _SENTENCE_SPLIT.split(clean) if p and p.strip()]
    parts = [p for p in parts if len(p) > 2]
    if len(parts) > _MAX_SENTENCES:  # keep the ends and the middle of very long messages
        step = len(parts) / _MAX_SENTENCES
        parts = [parts[int(i * step)] for i in range(_MAX_SENTENCES)]
    whole = re.sub(r"\s+", " ", clean).strip()
    if whole and whole not in parts and len(whole) < 300:
        parts.append(whole)
    return parts


_phrase_lock = threading.Lock()


@lru_cache(maxsize=1)
def _phrase_vectors():  # type: ignore[no-untyped-def]
    from bot.knowledge.embeddings import embed

    with _phrase_lock:
        return embed(list(CRISIS_PHRASES)), embed(list(DISCLOSURE_PHRASES))


def warm_up() -> None:
    """Load the model, embed the phrase sets and get the learned layer now."""
    _phrase_vectors()
    learned_layer()


@dataclass(frozen=True)
class Scores:
    """What the model layers said about a message's most worrying piece."""

    crisis: float = 0.0
    crisis_phrase: str = ""
    disclosure: float = 0.0
    disclosure_phrase: str = ""
    learned_crisis: float = 0.0
    learned_disclosure: float = 0.0
    learned_crisis_sentence: float = 0.0  # best single sentence of a short message
    long: bool = False  # learned_crisis is the best sentence of a long message


def model_scores(text: str) -> Scores:
    """Semantic similarity and learned probabilities, best over the message's pieces."""
    from bot.knowledge.embeddings import embed

    pieces = sentences(text)
    if not pieces:
        return Scores()
    crisis_vecs, disclosure_vecs = _phrase_vectors()
    # The learned layer was fitted on whole messages, so it reads whole sentences
    # (and the whole message), not the clause fragments the semantic layer also gets.
    whole = _sentences_for_learned(text)
    single = _single_sentences(text) if len(whole) == 1 else []
    texts = list(dict.fromkeys(pieces + whole + single))
    vectors = embed(texts)
    crisis = vectors[: len(pieces)] @ crisis_vecs.T
    disclosure = vectors[: len(pieces)] @ disclosure_vecs.T
    ci = divmod(int(crisis.argmax()), crisis.shape[1])
    di = divmod(int(disclosure.argmax()), disclosure.shape[1])
    index = {p: i for i, p in enumerate(texts)}
    read = whole + single
    learned = learned_layer().probabilities(vectors[[index[w] for w in read]], read)
    return Scores(
        float(crisis[ci]),
        CRISIS_PHRASES[ci[1]],
        float(disclosure[di]),
        DISCLOSURE_PHRASES[di[1]],
        float(learned[: len(whole), 1].max()),
        float(learned[: len(whole), 2].max()),
        float(learned[len(whole) :, 1].max()) if single else 0.0,
        len(whole) > 1,
    )


_SENTENCE_END = re.compile(r"(?<=[.!?;\n])\s+")


def _sentences_for_learned(text: str) -> list[str]:
    """What the learned layer reads: a message under 300 characters whole (as it
    was trained), a longer one sentence by sentence (a short fragment such as "can
    I do it without them?" alone reads like a plan; inside its message it does not)."""
    clean = _clean(text)
    whole = re.sub(r"\s+", " ", clean).strip()
    if len(whole) < LONG_CHARS:
        return [whole] if whole else []
    parts = [p.strip() for p in _SENTENCE_END.split(clean) if len(p.strip()) > 2]
    if len(parts) > _MAX_SENTENCES:
        step = len(parts) / _MAX_SENTENCES
        parts = [parts[int(i * step)] for i in range(_MAX_SENTENCES)]
    return parts or [whole]


def _single_sentences(text: str) -> list[str]:
    """The sentences of a short message, when it has two or more of three words or more."""
    clean = _clean(text)
    parts = [p.strip() for p in _SENTENCE_END.split(clean) if len(p.split()) >= 3]
    return parts if len(parts) >= 2 else []


def semantic_scores(text: str) -> tuple[float, str, float, str]:
    """Best cosine similarity of any piece of the message to each phrase set.

    Returns:
        (crisis score, nearest crisis phrase, disclosure score, nearest disclosure phrase)
    """
    s = model_scores(text)
    return s.crisis, s.crisis_phrase, s.disclosure, s.disclosure_phrase


def risk_words(text: str) -> list[str]:
    """Categories of the risk words in the message (``always`` ones first)."""
    clean = _clean(text)
    found = [c for p, c in _RISK_ALWAYS if p.search(clean)]
    found += [f"{c}?" for p, c in _RISK_WITH_LEARNED if p.search(clean)]
    return found


# A risk word of the ``with_learned`` kind ("letters", "final", "burden", "no
# point"...) stops a decline only when the learned layer gives the message at least
# this crisis probability, as safety/risk_words.yml says of those words. Leaving each
# tuning pass out in turn (2026-12-06), 77 ordinary messages that the check let through
# carried such a word, 50 of them under 0.10; of the crisis and disclosure messages it
# let through, one carried one, at 0.34.
DECLINE_CHECK_IN_FLOOR = 0.10


def carries_risk_word(text: str, learned_crisis: float | None) -> bool:
    """True when an unsure or out-of-scope reply must not go out for this message.

    A word naming the topic (suicide, self-harm ...) with no statement is not one:
    :func:`check` has already weighed it with the learned layer (crisis, check-in, or
    an ordinary question such as a school's self-harm policy). An ``always`` word
    (a method, a quantity of medicine) is one whatever the learned layer says; a
    ``with_learned`` word only with a crisis probability of at least
    :data:`DECLINE_CHECK_IN_FLOOR`.

    Args:
        text: The message as the person wrote it.
        learned_crisis: :attr:`SafetyResult.learned_crisis` of the message's check
            (None, as when the model is off or failed: every risk word counts).
    """
    words = risk_words(text)
    if any(not c.endswith("?") for c in words):
        return True
    if not any(c[:-1] not in _WEAK_CATEGORIES for c in words):
        return False
    return learned_crisis is None or learned_crisis >= DECLINE_CHECK_IN_FLOOR


def check(text: str, semantic: bool = True) -> SafetyResult:
    """Decide whether a message needs crisis or safeguarding routes, or a check-in.

    Args:
        text: The message as the person wrote it (any length; empty is fine).
        semantic: Also run the MiniLM layers (off for pattern-only use).

    Returns:
        A SafetyResult; ``result.flagged`` is True for crisis, disclosure and check-in.
    """
    if not text or not text.strip():
        return NOT_FLAGGED
    result = check_patterns(text)
    if result.kind == CRISIS:
        return result
    topic = _first(_TOPIC_RE, _clean(text))
    words = risk_words(text)
    always = [w for w in words if not w.endswith("?")]
    if not semantic:
        if topic:  # without the model a word naming the topic is a crisis, as before
            return SafetyResult(CRISIS, "phrase", f"{topic[0]}: {topic[1]!r}", 1.0)
        if result.flagged:
            return result
        if always:
            return SafetyResult(CHECK_IN, "risk_word", always[0], 1.0)
        return NOT_FLAGGED
    s = model_scores(text)
    t = learned_layer().thresholds
    if s.crisis >= CRISIS_THRESHOLD:
        return SafetyResult(CRISIS, "semantic", f"like {s.crisis_phrase!r}", s.crisis)
    if s.learned_crisis >= (max(SENTENCE_CRISIS, t["crisis"]) if s.long else t["crisis"]):
        return SafetyResult(CRISIS, "learned", f"crisis p={s.learned_crisis:.2f}", s.learned_crisis)
    sentence = s.learned_crisis_sentence
    if sentence >= max(SENTENCE_CRISIS, t["crisis"]):
        return SafetyResult(CRISIS, "learned", f"a sentence with crisis p={sentence:.2f}", sentence)
    topic_evidence = (
        f"{topic[0]}: {topic[1]!r} with crisis p={s.learned_crisis:.2f}" if topic else ""
    )
    if topic and s.learned_crisis >= TOPIC_CRISIS:
        return SafetyResult(CRISIS, "phrase", topic_evidence, s.learned_crisis)
    if result.kind == DISCLOSURE:
        return result
    if s.disclosure >= DISCLOSURE_THRESHOLD:
        return SafetyResult(DISCLOSURE, "semantic", f"like {s.disclosure_phrase!r}", s.disclosure)
    if s.learned_disclosure >= t["disclosure"]:
        return SafetyResult(
            DISCLOSURE, "learned", f"disclosure p={s.learned_disclosure:.2f}", s.learned_disclosure
        )
    if topic and s.learned_crisis >= TOPIC_QUIET:
        return SafetyResult(CHECK_IN, "risk_word", topic_evidence, s.learned_crisis)
    if always:
        return SafetyResult(CHECK_IN, "risk_word", always[0], 1.0)
    weak = [w[:-1] for w in words if w.endswith("?")]
    with_word = max(LONG_CHECK_IN_WORD, t["check_in"]) if s.long else t["check_in"]
    if weak and s.learned_crisis >= with_word:
        return SafetyResult(
            CHECK_IN,
            "risk_word",
            f"{weak[0]} with crisis p={s.learned_crisis:.2f}",
            s.learned_crisis,
        )
    alone = max(LONG_CHECK_IN, t["check_in_alone"]) if s.long else t["check_in_alone"]
    if s.learned_crisis >= alone:
        return SafetyResult(
            CHECK_IN, "learned", f"crisis p={s.learned_crisis:.2f}", s.learned_crisis
        )
    return SafetyResult(NONE, learned_crisis=s.learned_crisis)
