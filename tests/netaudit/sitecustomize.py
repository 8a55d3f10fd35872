"""Records every network connection a Python process tries, for the privacy test.

Put this folder on PYTHONPATH and set SENBOT_NET_AUDIT_LOG to a file: each
``socket.connect``, ``socket.sendto`` and ``socket.getaddrinfo`` in the process
is appended there as one JSON line. Python's audit hooks see every socket call,
whichever library makes it (aiohttp, requests, urllib3, sentry, grpc in Python).
"""

import json
import os
import sys

_LOG = os.environ.get("SENBOT_NET_AUDIT_LOG")


def _record(event, args):
    if event not in ("socket.connect", "socket.sendto", "socket.getaddrinfo"):
        return
    try:
        if event == "socket.getaddrinfo":
            target = [args[0], args[1]]
        else:
            address = args[-1]
            target = list(address) if isinstance(address, tuple) else address
        line = json.dumps({"pid": os.getpid(), "event": event, "target": target}, default=str)
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(line + "\n")
    except Exception:  # noqa: BLE001, S110 - an audit hook must never break the process it watches
        pass


if _LOG:
    sys.addaudithook(_record)
