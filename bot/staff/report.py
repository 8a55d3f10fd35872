"""The staff review report: ``python -m bot report [--since D] [--csv F] [--html F]``.

Built from the feedback database (:mod:`bot.records.review`) and the conversation
store's out-of-scope messages: what families asked that the assistant declined,
grouped by meaning; which articles' answers did not
help; which articles were never used; and answered / declined / unhelpful
counts per week (weeks start on Monday). The terminal gets a plain summary;
``--csv`` writes one row per finding (``section, item, count, detail``) for a
spreadsheet; ``--html`` writes one self-contained page with a small bar chart
drawn as inline SVG (no scripts, nothing fetched).

Declined questions are grouped greedily by MiniLM cosine similarity
(:data:`GROUP_AT`): the most frequent wording starts a group and every question
at least that close to it joins. Everything stored was redacted on the way in
and is redacted again here.

About 440 lines, over the house's 300: the terminal, CSV and HTML outputs are
the same findings written three ways, kept beside the one function that finds them.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from bot.records.privacy import redact
from bot.records.review import (
    ANSWERED,
    DECLINED,
    Event,
    Rating,
    ReviewLog,
    out_of_scope_events,
)

# Two declined questions this close (MiniLM cosine) are counted as one question.
# Measured 2026-12-04 on eleven off-topic questions: paraphrases ("when do the bins
# get collected" / "what day is bin collection", "how do I pay council tax" /
# "council tax payment") scored 0.76-0.88, different questions 0.49 or less.
GROUP_AT = 0.65
MAX_EXAMPLES = 5


@dataclass
class QuestionGroup:
    """Declined questions that mean the same thing."""

    question: str  # the most frequent wording
    count: int = 0
    wordings: Counter = field(default_factory=Counter)

    def others(self) -> list[str]:
        others = [w for w, _ in self.wordings.most_common() if w != self.question]
        return others[:MAX_EXAMPLES]


@dataclass
class ArticleFeedback:
    """How one article's answers were rated."""

    article: str
    not_helpful: int
    helpful: int
    questions: list[str]


@dataclass
class Week:
    """Counts for the week starting on ``start`` (a Monday)."""

    start: date
    answered: int = 0
    declined: int = 0
    unhelpful: int = 0


@dataclass
class Report:
    """Everything the report shows."""

    since: date | None
    unanswered: list[QuestionGroup]
    unhelpful: list[ArticleFeedback]
    never_used: list[str]
    weeks: list[Week]
    answered: int
    declined: int

    @property
    def empty(self) -> bool:
        return not (self.answered or self.declined or self.unhelpful)


def _normalise(question: str) -> str:
    return " ".join(redact(question).split())


def group_questions(
    questions: Sequence[str], threshold: float = GROUP_AT, embed: Callable | None = None
) -> list[QuestionGroup]:
    """Group questions by meaning, most asked first.

    Args:
        questions: Declined questions (repeats count).
        threshold: Cosine similarity at or above which a question joins a group.
        embed: Texts -> L2-normalised vectors; MiniLM (:func:`bot.knowledge.embeddings.embed`)
            when None.

    Returns:
        Groups, largest first (ties by wording).
    """
    counts = Counter(q for q in (_normalise(q) for q in questions) if q)
    if not counts:
        return []
    if embed is None:
        from bot.knowledge.embeddings import embed as model_embed

        embed = model_embed
    wordings = sorted(counts, key=lambda q: (-counts[q], q.lower()))
    vectors = embed(wordings)
    groups: list[QuestionGroup] = []
    leaders: list[int] = []
    for i, wording in enumerate(wordings):
        best, best_score = None, threshold
        for g, leader in enumerate(leaders):
            score = float(vectors[i] @ vectors[leader])
            if score >= best_score:
                best, best_score = g, score
        if best is None:
            groups.append(QuestionGroup(wording))
            leaders.append(i)
            best = len(groups) - 1
        groups[best].count += counts[wording]
        groups[best].wordings[wording] += counts[wording]
    groups.sort(key=lambda g: (-g.count, g.question.lower()))
    return groups


def week_of(moment: datetime) -> date:
    """The Monday of the week ``moment`` falls in."""
    day = moment.date()
    return day - timedelta(days=day.weekday())


def article_slugs(knowledge_dir: Path | None = None) -> list[str]:
    """Every article's slug (file name without ``.md``), sorted."""
    if knowledge_dir is None:
        from bot.settings import get_settings

        knowledge_dir = get_settings().knowledge_dir
    return sorted(p.stem for p in (knowledge_dir / "articles").glob("*.md"))


def build(
    events: Sequence[Event],
    ratings: Sequence[Rating],
    articles: Sequence[str],
    since: date | None = None,
    embed: Callable | None = None,
    threshold: float = GROUP_AT,
) -> Report:
    """The report from recorded events and ratings.

    Args:
        events: Answered and declined questions (:meth:`ReviewLog.events`).
        ratings: "Was this helpful?" answers (:meth:`ReviewLog.ratings`).
        articles: Every article slug, to find those never used.
        since: The first day covered (only shown; the caller filters).
        embed: Passed to :func:`group_questions` (tests give a stand-in).
        threshold: Passed to :func:`group_questions`.
    """
    declined = [e.question for e in events if e.kind == DECLINED]
    weeks: dict[date, Week] = {}

    def week(moment: datetime) -> Week:
        start = week_of(moment)
        return weeks.setdefault(start, Week(start))

    used = set()
    for event in events:
        if event.kind == ANSWERED:
            week(event.at).answered += 1
            used.add(event.article)
        else:
            week(event.at).declined += 1
    by_article: dict[str, ArticleFeedback] = {}
    for rating in ratings:
        used.add(rating.article)
        entry = by_article.setdefault(rating.article, ArticleFeedback(rating.article, 0, 0, []))
        if rating.helpful:
            entry.helpful += 1
            continue
        entry.not_helpful += 1
        week(rating.at).unhelpful += 1
        for text in (rating.question, rating.comment):
            text = _normalise(text or "")
            if text and text not in entry.questions:
                entry.questions.append(text)
    unhelpful = sorted(
        (a for a in by_article.values() if a.not_helpful), key=lambda a: (-a.not_helpful, a.article)
    )
    return Report(
        since=since,
        unanswered=group_questions(declined, threshold, embed),
        unhelpful=unhelpful,
        # With nothing answered yet every article would be "never used": say nothing.
        never_used=[a for a in articles if a not in used] if used else [],
        weeks=[weeks[k] for k in sorted(weeks)],
        answered=sum(1 for e in events if e.kind == ANSWERED),
        declined=len(declined),
    )


def from_store(
    store: ReviewLog,
    since: date | None = None,
    articles: Sequence[str] | None = None,
    tracker_url: str | None = None,
) -> Report:
    """The report for everything recorded in ``store`` (and, given ``tracker_url``,
    the conversation store's out-of-scope questions) from ``since`` on."""
    events = store.events(since)
    if tracker_url:
        events = sorted(events + out_of_scope_events(tracker_url, since), key=lambda e: e.at)
    return build(
        events,
        store.ratings(since),
        article_slugs() if articles is None else articles,
        since,
    )


# --- Output ----------------------------------------------------------------------


def text_lines(report: Report) -> list[str]:
    """The report as plain text for the terminal."""
    since = f" since {report.since.isoformat()}" if report.since else ""
    if report.empty:
        return [f"Nothing recorded{since} yet: no answered, declined or unhelpful questions."]
    unhelpful = sum(a.not_helpful for a in report.unhelpful)
    lines = [
        (
            f"Review report{since}: {report.answered} answered, {report.declined} "
            f"declined, {unhelpful} not helpful."
        ),
        "",
    ]
    lines.append("Questions the assistant could not answer (most asked first):")
    if not report.unanswered:
        lines.append("  (none)")
    for group in report.unanswered:
        lines.append(f"  {group.count:3}  {group.question}")
        lines.extend(f"         also: {w}" for w in group.others())
    lines += ["", "Answers that did not help, per article:"]
    if not report.unhelpful:
        lines.append("  (none)")
    for item in report.unhelpful:
        lines.append(f"  {item.not_helpful:3}  {item.article} ({item.helpful} found it helpful)")
        lines.extend(f"         {q}" for q in item.questions[:MAX_EXAMPLES])
    lines += ["", f"Articles never used ({len(report.never_used)}):"]
    lines.extend(f"  {a}" for a in report.never_used or ["(none)"])
    lines += ["", "Per week    answered  declined  not helpful"]
    lines.extend(
        f"  {w.start.isoformat()}  {w.answered:8}  {w.declined:8}  {w.unhelpful:11}"
        for w in report.weeks
    )
    return lines


CSV_HEADER = ("section", "item", "count", "detail")


def write_csv(report: Report, path: Path) -> None:
    """One row per finding: ``section, item, count, detail``.

    Sections: ``unanswered`` (a question group; detail: other wordings),
    ``unhelpful`` (an article; detail: the questions), ``never_used`` (an
    article), ``week_answered``, ``week_declined``, ``week_unhelpful`` (item: the
    Monday).
    """
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_HEADER)
        for group in report.unanswered:
            writer.writerow(("unanswered", group.question, group.count, " | ".join(group.others())))
        for item in report.unhelpful:
            writer.writerow(
                (
                    "unhelpful",
                    item.article,
                    item.not_helpful,
                    " | ".join(item.questions[:MAX_EXAMPLES]),
                )
            )
        for article in report.never_used:
            writer.writerow(("never_used", article, 0, ""))
        for week in report.weeks:
            day = week.start.isoformat()
            writer.writerow(("week_answered", day, week.answered, ""))
            writer.writerow(("week_declined", day, week.declined, ""))
            writer.writerow(("week_unhelpful", day, week.unhelpful, ""))


SERIES = (("answered", "#1d4f91"), ("declined", "#b35900"), ("unhelpful", "#8b1a4a"))


def chart_svg(weeks: Sequence[Week], width: int = 640, height: int = 240) -> str:
    """A grouped bar chart of answered, declined and unhelpful per week, as SVG.

    Numbers and dates only go into the markup, so nothing needs escaping; every
    bar has a ``<title>`` so a screen reader or a hover gives its value.
    """
    left, bottom, top = 40, 36, 16
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max([1] + [max(w.answered, w.declined, w.unhelpful) for w in weeks])
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
            f'height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" '
            'aria-labelledby="chart-title"><title id="chart-title">Answered, declined '
            "and not helpful questions per week</title>"
        ),
        (
            f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
            f'y2="{top + plot_h}" stroke="#444"/>'
        ),
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="11">{peak}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    slot = plot_w / max(1, len(weeks))
    bar = min(28.0, slot / 4)
    for i, week in enumerate(weeks):
        x0 = left + i * slot + (slot - 3 * bar) / 2
        for j, (name, colour) in enumerate(SERIES):
            value = getattr(week, name)
            h = plot_h * value / peak
            x = x0 + j * bar
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar - 2:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{name} in the week of "
                f"{week.start.isoformat()}: {value}</title></rect>"
            )
        middle = left + i * slot + slot / 2
        parts.append(
            f'<text x="{middle:.1f}" y="{top + plot_h + 16}" '
            f'text-anchor="middle" font-size="11">'
            f"{week.start.strftime('%d %b')}</text>"
        )
    for j, (name, colour) in enumerate(SERIES):
        x = left + j * 110
        parts.append(
            f'<rect x="{x}" y="{height - 12}" width="10" height="10" '
            f'fill="{colour}"/><text x="{x + 14}" y="{height - 3}" '
            f'font-size="11">{name}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>SEN Support assistant: review report</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #1a1a1a; line-height: 1.4; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #ddd;
         vertical-align: top; }
td.n { text-align: right; width: 4rem; }
.also { color: #555; font-size: .9em; }
ul.cols { columns: 3; font-size: .9em; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
</style></head><body>
<h1>Review report{{ since }}</h1>
<p>{{ report.answered }} answered, {{ report.declined }} declined,
{{ unhelpful_total }} not helpful. Personal details were taken out of every question
before it was stored; conversation ids are hashed.</p>
{% if report.empty %}<p>Nothing recorded yet.</p>{% endif %}
<h2>Per week</h2>
{{ chart | safe }}
<h2>Questions the assistant could not answer</h2>
{% if report.unanswered %}<table><tr><th>asked</th><th>question, and other ways it
was put</th></tr>
{% for g in report.unanswered %}<tr><td class="n">{{ g.count }}</td><td>{{ g.question }}
{% for w in g.others() %}<div class="also">also: {{ w }}</div>{% endfor %}</td></tr>
{% endfor %}</table>{% else %}<p>None.</p>{% endif %}
<h2>Answers that did not help, per article</h2>
{% if report.unhelpful %}<table><tr><th>not helpful</th><th>article</th><th>helpful</th>
<th>questions</th></tr>
{% for a in report.unhelpful %}<tr><td class="n">{{ a.not_helpful }}</td>
<td>{{ a.article }}</td><td class="n">{{ a.helpful }}</td>
<td>{% for q in a.questions[:5] %}<div>{{ q }}</div>{% endfor %}</td></tr>
{% endfor %}</table>{% else %}<p>None.</p>{% endif %}
<h2>Articles never used ({{ report.never_used | length }})</h2>
{% if report.never_used %}<ul class="cols">
{% for a in report.never_used %}<li>{{ a }}</li>
{% endfor %}</ul>{% else %}<p>None.</p>{% endif %}
<h2>Counts per week</h2>
<table><tr><th>week of</th><th>answered</th><th>declined</th><th>not helpful</th></tr>
{% for w in report.weeks %}<tr><td>{{ w.start.isoformat() }}</td>
<td class="n">{{ w.answered }}</td><td class="n">{{ w.declined }}</td>
<td class="n">{{ w.unhelpful }}</td></tr>
{% endfor %}</table>
</body></html>
"""


def html(report: Report) -> str:
    """The report as one self-contained HTML page (questions escaped by Jinja)."""
    from jinja2 import Environment

    template = Environment(autoescape=True).from_string(_HTML)
    return template.render(
        report=report,
        since=f" since {report.since.isoformat()}" if report.since else "",
        unhelpful_total=sum(a.not_helpful for a in report.unhelpful),
        chart=chart_svg(report.weeks),
    )


def add_arguments(parser) -> None:
    """The ``report`` subcommand's options."""
    parser.add_argument(
        "--since",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="only what was recorded from this day on (UTC)",
    )
    parser.add_argument("--csv", type=Path, metavar="FILE", help="also write a CSV file")
    parser.add_argument(
        "--html", type=Path, metavar="FILE", help="also write an HTML page with a weekly chart"
    )
    parser.add_argument(
        "--db",
        type=Path,
        metavar="FILE",
        help="the feedback database (default: SENBOT_FEEDBACK_DB)",
    )
    parser.add_argument(
        "--tracker",
        metavar="URL",
        help="the conversation store, for out-of-scope questions (default: as endpoints.yml "
        "gets it, SENBOT_TRACKER_URL or SENBOT_TRACKER_DB)",
    )


def run_cli(args) -> int:
    """Print the report and write the files asked for."""
    tracker = args.tracker
    if tracker is None:
        from bot.records.privacy import tracker_db_url
        from bot.settings import Settings

        tracker = tracker_db_url(Settings.from_env())
    report = from_store(ReviewLog(args.db), args.since, tracker_url=tracker)
    print("\n".join(text_lines(report)))
    if args.csv:
        write_csv(report, args.csv)
        print(f"\nWrote {args.csv}")
    if args.html:
        args.html.write_text(html(report), encoding="utf-8")
        print(f"Wrote {args.html}")
    return 0
