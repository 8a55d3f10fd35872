"""Serve the widget app: ``python -m web_widget`` (host and port from settings)."""

import logging

from bot.settings import get_settings
from web_widget import create_app

if __name__ == "__main__":
    settings = get_settings()
    # The development server logs every request with the client's address; the
    # privacy notice promises addresses are not written down, so keep only errors.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    create_app().run(host=settings.host, port=settings.widget_port, threaded=True)
