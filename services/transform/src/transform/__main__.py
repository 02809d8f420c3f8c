"""`python -m transform`: check configuration and dependencies, then serve."""

from common.runner import load_settings, serve
from transform.config import Settings
from transform.main import create_app

if __name__ == "__main__":
    serve("transform", load_settings(Settings, "transform", "TRANSFORM_"), create_app)
