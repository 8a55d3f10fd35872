"""Serve the widget app: ``python -m web_widget`` (host and port from settings)."""

from bot.settings import get_settings
from web_widget import create_app

if __name__ == "__main__":
    settings = get_settings()
    create_app().run(host=settings.host, port=settings.widget_port, threaded=True)
