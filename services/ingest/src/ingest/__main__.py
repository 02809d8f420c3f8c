"""`python -m ingest`: check configuration and dependencies, then serve."""

from common.runner import load_settings, serve
from ingest.config import Settings
from ingest.main import create_app

if __name__ == "__main__":
    serve("ingest", load_settings(Settings, "ingest", "INGEST_"), create_app)
