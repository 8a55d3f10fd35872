"""Running the assistant: preparing the model and index, and supervising the services.

- :mod:`bot.stack.services` trains when needed, builds the index, starts the action
  server, Rasa and the widget, restarts one that dies and stops them in order.
- :mod:`bot.stack.scaled` ``make run-scaled``: several servers behind nginx, on
  PostgreSQL and Redis.
- ``python -m bot.stack`` (:mod:`bot.stack.__main__`) the command line.

This package starts processes and writes under ``var/``; nothing else in ``bot``
imports it except the staff console (for the API token) and the answer evaluation.
"""
