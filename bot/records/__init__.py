"""What is kept about conversations, and for how long.

- :mod:`~bot.records.feedback` "Was this helpful?" answers, stored.
- :mod:`~bot.records.review` answered and declined questions kept, redacted.
- :mod:`~bot.records.privacy` redaction and the retention purge.
"""
