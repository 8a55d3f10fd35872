"""Benchmark scripts: each prints its figures; none is a timed test."""

from __future__ import annotations

from bot.stack import free_port, loopback_settings

__all__ = ["free_port", "loopback_settings"]
