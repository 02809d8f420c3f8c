"""Integration events: the envelope and one module per producing context."""
