"""The `source` of every envelope transform publishes: the service's name (not its schema)."""

SOURCE = "transform"
