"""Run Rasa's command line with telemetry and Sentry error reporting switched off.

Rasa 3.6 starts Sentry from a key file shipped inside the package whatever
``RASA_TELEMETRY_ENABLED`` says, so the only way to be sure no conversation detail
leaves the machine is to replace that start-up hook before Rasa's CLI runs.
"""

import os
import sys

os.environ["RASA_TELEMETRY_ENABLED"] = "false"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import rasa.telemetry  # noqa: E402


def _no_error_reporting() -> None:
    """Stand-in for Sentry's start-up: report nothing anywhere."""


rasa.telemetry.initialize_error_reporting = _no_error_reporting

from rasa.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
