"""Core library of the SEN Support assistant.

Settings, knowledge ingestion, the index, retrieval, safety checks and contacts.
Imports neither ``rasa_sdk`` nor ``flask`` so it can be used and tested alone.
"""
