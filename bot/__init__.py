"""Core library of the SEN Support assistant, one subpackage per concern.

- :mod:`bot.settings` every environment variable, with defaults.
- :mod:`bot.knowledge` pages, ingest, the index, search, answers and their evaluation.
- :mod:`bot.safety` the crisis and disclosure check.
- :mod:`bot.people` contacts, handoff and the reply when nothing can be looked up.
- :mod:`bot.records` feedback, kept questions, redaction and retention.
- :mod:`bot.staff` the staff console and report.
- :mod:`bot.stack` preparing and running the services (``python -m bot.stack``).
- ``python -m bot`` staff commands (:mod:`bot.__main__`).

Imports neither ``rasa_sdk`` nor ``flask`` so it can be used and tested alone.
"""
