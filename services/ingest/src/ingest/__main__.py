"""`python -m ingest`: check configuration, the signing key and dependencies, then serve."""

from common.runner import load_settings, serve
from ingest.adapters.tokens import SigningKeys
from ingest.config import Settings
from ingest.main import create_app


def _signing_key_problem(settings: Settings) -> str | None:
    try:
        SigningKeys.from_files(settings.token_signing_key_file, settings.token_published_key_files)
    except ValueError as exc:
        return f"token signing key: {exc}"
    return None


if __name__ == "__main__":
    serve("ingest", load_settings(Settings, "ingest", "INGEST_"), create_app, _signing_key_problem)
