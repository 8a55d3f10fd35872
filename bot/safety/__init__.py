"""The crisis and disclosure check, run on every message before anything else.

- :mod:`bot.safety.detector` the layers (phrase patterns, third-party wording,
  MiniLM similarity, the learned layer, risk words) and :func:`~bot.safety.detector.check`.
- :mod:`bot.safety.learned` the learned layer, fitted on the tuning half only.
- :mod:`bot.safety.data` the kinds of result and the reviewed data in the top-level
  ``safety/*.yml`` (phrases, patterns, masks, risk words).

Callers import the modules (``from bot.safety import detector``); they import only
``bot.settings`` and ``bot.knowledge.embeddings``.
"""
