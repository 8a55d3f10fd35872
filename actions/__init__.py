"""Rasa custom actions: thin wrappers that read the tracker, call ``bot`` and reply."""
