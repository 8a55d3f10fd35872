"""The knowledge: local offer pages to an index, and questions to answers.

- :mod:`~bot.knowledge.pages` raw pages to sections; :mod:`~bot.knowledge.articles`
  articles, questions and pages to passages; :mod:`~bot.knowledge.ingest` builds the
  index (the only writer) in the format :mod:`~bot.knowledge.index` owns;
  :mod:`~bot.knowledge.dry_run` previews a page.
- :mod:`~bot.knowledge.embeddings` the MiniLM model; :mod:`~bot.knowledge.search`
  BM25 and dense search; :mod:`~bot.knowledge.answers` the reply the person reads,
  its text cut by :mod:`~bot.knowledge.compose`;
  :mod:`~bot.knowledge.topics` and :mod:`~bot.knowledge.sources` what surrounds it.
- :mod:`~bot.knowledge.audit`, :mod:`~bot.knowledge.evaluate` and
  :mod:`~bot.knowledge.answer_eval` check the knowledge and measure the answers.

May import ``bot.settings`` and ``bot.people``; never Rasa or Flask.
"""
