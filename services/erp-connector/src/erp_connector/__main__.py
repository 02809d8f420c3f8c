"""`python -m erp_connector`: check configuration and dependencies, then serve."""

from common.runner import load_settings, serve
from erp_connector.config import Settings
from erp_connector.main import create_app

if __name__ == "__main__":
    serve("erp-connector", load_settings(Settings, "erp-connector", "ERP_CONNECTOR_"), create_app)
