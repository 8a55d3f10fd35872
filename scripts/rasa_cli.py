"""Run Rasa's command line with telemetry and Sentry error reporting switched off.

Rasa 3.6 starts Sentry from a key file shipped inside the package whatever
``RASA_TELEMETRY_ENABLED`` says, so the only way to be sure no conversation detail
leaves the machine is to replace that start-up hook before Rasa's CLI runs.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.settings import use_offline_env, use_serving_env  # noqa: E402

use_offline_env()
if sys.argv[1:2] == ["run"]:  # the server; `rasa train` keeps OpenBLAS's default
    use_serving_env()

import rasa.telemetry  # noqa: E402


def _no_error_reporting() -> None:
    """Stand-in for Sentry's start-up: report nothing anywhere."""


rasa.telemetry.initialize_error_reporting = _no_error_reporting

from rasa.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
