"""The fixed replies when the assistant cannot look something up, or cannot be reached.

When the action server is down, slow or failing, Rasa logs an error and sends
nothing: the person would get silence. The channels (``channels/never_silent.py``)
send this reply instead. It needs nothing but ``knowledge/contacts.yml``: SENDIAS for
the person's area (or how to find it), then 999 and the lines open day and night.
The sentences are in ``knowledge/replies.yml``.
"""

from __future__ import annotations

from bot.people.contacts import Contact, Directory, directory, normalise_area
from bot.people.replies import reply

# Named in this order after SENDIAS; each is in knowledge/contacts.yml with its source.
CRISIS_LINE_IDS = ("childline", "samaritans", "nhs_111_mental_health")


def _sendias(contact: Contact) -> str:
    ways = [
        f"phone {contact.phone}" if contact.phone else "",
        f"website {contact.web}" if contact.web else "",
        f"email {contact.email}" if contact.email else "",
    ]
    ways = [w for w in ways if w]
    if ways:
        return f"contact {contact.service}: " + ", ".join(ways)
    return reply("sendias_search", where=f"the {contact.area}")


def _line(contact: Contact) -> str:
    audience = " (under 19s)" if contact.id == "childline" else ""
    if contact.id == "nhs_111_mental_health":
        return reply("nhs_mental_health_line", phone=contact.phone)
    return f"{contact.service} {contact.phone}{audience}"


def cannot_look_up(area: object = None, contacts: Directory | None = None) -> str:
    """The reply sent when the assistant's look-ups are down, slow or failing.

    Args:
        area: The conversation's ``area`` slot (``"cornwall"`` ...), or None.
        contacts: The contacts to use; the project's ``knowledge/contacts.yml``
            by default.

    Returns:
        One short message: sorry, SENDIAS for the area, 999 and the crisis lines.
    """
    contacts = contacts or directory()
    county = normalise_area(area)
    found = contacts.find("sendias", county) if county else []
    sendias = _sendias(found[0]) if found else reply("sendias_search", where="your council's")
    lines = [
        _line(contacts[cid])
        for cid in CRISIS_LINE_IDS
        if cid in contacts.by_id and contacts[cid].phone
    ]
    danger = danger_number(contacts)
    return reply("cannot_look_up", sendias=sendias, danger=danger, lines=", ".join(lines))


def danger_number(contacts: Directory | None = None) -> str:
    """The emergency number, from ``knowledge/contacts.yml``."""
    contacts = contacts or directory()
    emergency = contacts.by_id.get("emergency_999")
    return emergency.phone if emergency and emergency.phone else "999"


def cannot_connect(contacts: Directory | None = None) -> str:
    """What the widget says when it cannot reach the assistant at all.

    Every number comes from ``knowledge/contacts.yml``, in the widget's crisis order.
    """
    contacts = contacts or directory()
    lines = [
        _line(contacts[cid])
        for cid in ("nhs_111_mental_health", "childline", "samaritans")
        if cid in contacts.by_id and contacts[cid].phone
    ]
    return reply("cannot_connect", danger=danger_number(contacts), lines=", ".join(lines))


def rate_limited(contacts: Directory | None = None) -> str:
    """What a person sending faster than the limit is told."""
    return reply("rate_limited", danger=danger_number(contacts))
