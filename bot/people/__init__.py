"""Who the person can talk to: contacts, handoff and the reply when nothing works.

- :mod:`~bot.people.contacts` loads and checks ``knowledge/contacts.yml``.
- :mod:`~bot.people.handoff` who to contact: SENDIAS, SENSS, complaints.
- :mod:`~bot.people.unavailable` the fixed reply when nothing can be looked up.
"""
