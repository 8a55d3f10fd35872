"""Tools for the staff who look after the assistant.

- :mod:`~bot.staff.console` the staff console (``make shell``).
- :mod:`~bot.staff.report` the staff review report.
"""
