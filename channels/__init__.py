"""Rasa input channels used by the assistant."""
