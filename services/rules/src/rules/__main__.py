"""`python -m rules`: check configuration and dependencies, then serve."""

from common.runner import load_settings, serve
from rules.config import Settings
from rules.main import create_app

if __name__ == "__main__":
    serve("rules", load_settings(Settings, "rules", "RULES_"), create_app)
