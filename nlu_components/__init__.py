"""Custom Rasa 3.6 graph components used in config.yml."""
