"""Putting people in touch with a person: SENDIAS, SENSS and the complaints routes.

Pure logic, no Rasa: given what was asked, the area (if known) and the time, say who
to contact and how, from knowledge/contacts.yml only, in the sentences of
knowledge/replies.yml. Where the answer depends on the area and the area is not
known, say so, and the caller asks for it (with the areas table's buttons).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from bot.knowledge import areas
from bot.people.contacts import UK, Directory, directory
from bot.people.replies import reply

SENDIAS = "sendias"
COMPLAINT = "complaint"

_SENSS = re.compile(
    r"\b(senss|support service|advisory teacher|specialist teacher|specialist advis\w*"
    r"|special educational needs support service)\b",
    re.I,
)
# SENSS is one county's service: complaints about it go to its senior managers.
SENSS_ID = "senss_oxfordshire"
_COUNCIL = re.compile(
    r"\b(council|local authority|\bla\b|ehc ?(needs )?assessment|ehcp|ehc plan|caseworker"
    r"|case worker|send team|isend|panel)\b",
    re.I,
)
# A school, its staff, or what only a school does to a pupil ("they put my daughter
# on a part time timetable", "sent her out onto the playground").
_SCHOOL = re.compile(
    r"\b(school|teacher|senco|sendco|head ?teacher|head|class|ta|teaching assistant"
    r"|academy|college|nursery|primary|secondary|sixth form|pre-?school|form tutor"
    r"|(?:part[- ]time\s+)?timetabl\w*|detentions?|exclu(?:ded|sions?)|playground"
    r"|classroom|lunchtimes?|break\s*times?|school trip|sen register)\b",
    re.I,
)

SCHOOL_STEPS = reply("school_steps")
SENDIAS_ELSEWHERE = reply("sendias_elsewhere")


AREA_QUESTION = reply("area_question")
AREA_BUTTONS = areas.buttons()


@dataclass
class Handoff:
    """What to say, or that the area is needed first."""

    messages: list[str] = field(default_factory=list)
    needs_area: bool = False
    contact_ids: list[str] = field(default_factory=list)


# "complain", and the ways people put it without the word: "a really poor service
# from SENSS, how do we raise it formally", "a formal grievance".
_COMPLAINT_WORDS = re.compile(
    r"\b(complain\w*|complaint|unhappy\s+with|not\s+happy\s+with|grievance|"
    r"(?:poor|bad|terrible|awful)\s+service|raise\s+(?:it|this|that)\s+formally)\b",
    re.I,
)
_CONCERN = re.compile(r"\bconcerns?\b|\bfeedback\b|\bmistakes?\b", re.I)
# A grievance without a complaint word: "can I go over her head", "how do I escalate
# this", "is there a manager I can take it up with", "do I go to the governors
# now?", "I'm fuming, what do I do". Not when the message names a decision (a cut, a
# refusal, a review): that has its own route, an appeal.
_GRIEVANCE = re.compile(
    r"\bgo(?:ing)?\s+over\s+(?:his|her|their|the\s+\w+'?s?)\s+heads?\b|(?<![\w-])escalat\w*|"
    r"\btake\s+(?:this|it|things|that)\s+further\b|"
    r"\btake\s+(?:this|it|that)\s+up\s+with\b|\bgo\s+to\s+the\s+governors\b|"
    r"\b(?:i'?m|i\s+am)\s+(?:absolutely\s+|so\s+|really\s+)?(?:fuming|furious|livid)\b|"
    r"\babsolutely\s+fuming\b",
    re.I,
)


# Words of a request for a person rather than a question about a topic: "can I talk
# to someone", "who can help me", "I need an advocate", "SENDIAS's number".
_WANTS_A_PERSON = re.compile(
    r"\b(?:some\s*one|some\s*body|any\s*one|any\s*body|person|human|(?<!mediation )advis[eo]rs?|"
    r"advocat\w*|experts?|help\s+me|talk|speak|chat|sendias+|iass|contact|phone|ring|"
    r"call|email|e-mail|number|advice|helpline|charity|need\s+(?:some\s+)?help|"
    r"help\s+(?:me|with|filling|writing)|support\s+me|on\s+my\s+side|come\s+(?:to|with))\b",
    re.I,
)


# A request for a person in so many words, narrower than the words above (which also
# take "help with" and "advice" in questions about a topic): "can someone independent
# come with me?", "is there anyone who can go through it with me", "someone on my
# side", "I want to talk to a person". Not "can anyone ask for an assessment", which
# asks who is allowed to.
_WANTS_SOMEONE = re.compile(
    r"\b(?:some\s*one|some\s*body|any\s*one|any\s*body|a\s+person)\s+(?:\w+\s+)?"
    r"(?:who|that|to|independent|impartial|neutral|on\s+my\s+side|i\s+can|we\s+can)\b|"
    r"\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:some\s*(?:one|body)|a\s+(?:person|human))\b|"
    r"\badvoca\w*",
    re.I,
)


def wants_someone(text: str) -> bool:
    """True when the message asks for a person to help or be there (SENDIAS).

    The knowledge action answers such a message when it can, and then gives
    SENDIAS too ("My son's annual review is in two weeks ... Can someone
    independent come with me?"); when the articles have nothing close enough, it
    gives SENDIAS, not "I'm not sure I have a good answer" ("is there someone who
    can explain these letters").
    """
    return bool(_WANTS_SOMEONE.search(text))


# A message this long that names a decision (a refusal, a cut, an appeal) tells the
# story the answer is about, even when it also asks for a person.
_LONG_STORY = 14
_DECISION = re.compile(
    r"\b(?:refus\w*|turned\s+(?:us\s+|it\s+|him\s+|her\s+)?down|said\s+no|cut\w*|"
    r"reduc\w*|ceas\w*|stop\w*|appeal\w*|tribunal|decision|decided|review)\b",
    re.I,
)


# A service other than SENDIAS named in a question ("can i get speech therapy advice
# without being referred", "what advice does iSEND give schools"): the question is
# about that service, which the knowledge describes, even with "advice" in it.
_OTHER_SERVICE = re.compile(
    r"\b(?:speech(?:\s+and\s+language)?\s+therap\w*|salt|occupational\s+therap\w*|"
    r"physio\w*|isend|senss|camhs|paediatric\w*|pediatric\w*|paeds|"
    r"educational\s+psycholog\w*|ed\s+psych\w*|school\s+nurs\w*|health\s+visitor)\b",
    re.I,
)
# A sentence that asks: a question mark at its end, or a question word at its start
# (also the answer function's test for the asking sentence of a longer message).
ASKS = re.compile(
    r"\?\s*$|^\s*(?:what|when|where|who|which|how|why|can|could|do|does|is|are|will|"
    r"should|would|did|has|have)\b",
    re.I,
)


def asks_a_question_too(text: str, kind: str = SENDIAS) -> bool:
    """True when a message sent to the handoff also asks about a topic.

    "how long do i have to appeal to the send tribunal" is classified as wanting a
    person (appeals are where families most need one), but it asks a question with
    an answer: the knowledge answer comes first, then the people. A request for a
    person ("can someone help me with the forms") gets the people alone, unless it
    tells a longer story with a decision in it ("after the annual review the LA want
    to cut his hours, is there anyone i can take that to"): the rules on that
    decision are what the person needs first. A message sent to the complaints
    route that disagrees with a decision and has no complaint word in it ("the LA
    turned down our request and i think theyre wrong, whats the first thing i
    should do") is a question too: a decision has its own route (an appeal), while
    a grievance ("the TA shouted at my son, how do i take this further") gets the
    complaints route alone. A question about another service ("can i get speech
    therapy advice without being referred") is about that service. The
    answer function's stricter decline for an unsure topic still applies, so a
    message with nothing to answer gets the people alone.

    Args:
        text: The message.
        kind: ``SENDIAS`` or ``COMPLAINT``: where the classifier sent it.
    """
    words = len(text.split())
    if kind == COMPLAINT:
        return words >= 6 and not is_complaint(text) and bool(_DECISION.search(text))
    if words >= _LONG_STORY and _DECISION.search(text):
        return True
    if words >= 4 and _OTHER_SERVICE.search(text) and ASKS.search(text):
        return True
    return words >= 4 and not _WANTS_A_PERSON.search(text)


def is_complaint(text: str) -> bool:
    """True when a message complains about a person or service (whatever its topic).

    A complaint word does it, and so does a concern about SENSS, whose own page
    says how to comment or complain ("raise a concern about a SENSS visit"), and a
    grievance put another way ("can I go over her head?", "im fuming, what do i do")
    that names no decision.
    """
    return bool(
        _COMPLAINT_WORDS.search(text)
        or (_SENSS.search(text) and _CONCERN.search(text))
        or (_GRIEVANCE.search(text) and not _DECISION.search(text))
    )


def senss_area(contacts: Directory | None = None) -> str | None:
    """The area slot value of the county SENSS serves (its contact's area)."""
    return areas.slot_of((contacts or directory())[SENSS_ID].area)


def complaint_target(text: str, area: str | None, contacts: Directory | None = None) -> str:
    """'senss', 'council', 'school' or 'unclear' for a complaint message."""
    home = senss_area(contacts)
    if _SENSS.search(text) and (
        area in (None, home) or (home is not None and areas.by_slot(home).mentioned_in(text))
    ):
        return "senss"
    council, school = bool(_COUNCIL.search(text)), bool(_SCHOOL.search(text))
    if council and not school:
        return "council"
    if school and not council:
        return "school"
    return "unclear"


SENDIAS_INTRO = reply("sendias_intro")


def _sendias(area: str | None, now: dt.datetime, contacts: Directory) -> Handoff:
    if area is None:  # say what SENDIAS is at once; the local contact needs the area
        return Handoff([SENDIAS_INTRO], needs_area=True)
    found = contacts.find("sendias", area)
    if not found:
        return Handoff([SENDIAS_ELSEWHERE])
    result = Handoff([SENDIAS_INTRO], contact_ids=[c.id for c in found])
    for contact in found:
        result.messages.append(contact.describe(now))
        if contact.is_open(now) is False:
            result.messages.append(_open_now(contacts, now, contact))
    return result


def _open_now(contacts: Directory, now: dt.datetime, closed) -> str:
    ways = [
        w
        for w in (
            closed.email and f"email {closed.email}",
            closed.web and f"use the website {closed.web}",
        )
        if w
    ]
    lines = []
    if ways:
        lines.append(reply("line_closed", ways=" or ".join(ways)))
    urgent = "; ".join(
        f"{c.service.split(' (')[0]} {c.phone or c.text}" for c in contacts.open_now_instead(now)
    )
    lines.append(reply("open_now", lines=urgent))
    return " ".join(lines)


def _complaint(text: str, area: str | None, now: dt.datetime, contacts: Directory) -> Handoff:
    target = complaint_target(text, area, contacts)
    result = Handoff()
    if target == "senss":
        senss = contacts[SENSS_ID]
        result.messages.append(reply("senss_complaint", contact=senss.describe(now)))
        result.contact_ids.append(senss.id)
        area = senss_area(contacts)
        council = contacts.find("council_complaints", area)
        if council:
            result.messages.append(reply("council_after_senss", contact=council[0].describe(now)))
            result.contact_ids.append(council[0].id)
    elif target == "school":
        result.messages.append(SCHOOL_STEPS)
    else:
        if area is None:
            return Handoff(needs_area=True)
        if target == "unclear":
            result.messages.append(SCHOOL_STEPS)
        council = contacts.find("council_complaints", area)
        if council:
            result.messages.append(reply("council_complaint", contact=council[0].describe(now)))
            result.contact_ids.append(council[0].id)
        else:
            result.messages.append(reply("council_unknown"))
    sendias = _sendias(area, now, contacts) if area else Handoff([SENDIAS_ELSEWHERE])
    if sendias.messages:
        result.messages.append(
            reply("complaint_sendias", sendias=" ".join(sendias.messages[1:] or sendias.messages))
        )
        result.contact_ids += sendias.contact_ids
    return result


def handoff(
    kind: str,
    text: str,
    area: str | None,
    now: dt.datetime | None = None,
    contacts: Directory | None = None,
) -> Handoff:
    """Who to contact for ``kind`` ('sendias' or 'complaint')."""
    now = now or dt.datetime.now(UK)
    contacts = contacts or directory()
    if kind == COMPLAINT:
        return _complaint(text or "", area, now, contacts)
    return _sendias(area, now, contacts)
