"""rollsync-agent: the factory-side half of the sync (seed 000's C# service, in Python).

Layers, outermost first: cli / loop -> capture, feed, history, reconcile -> cloud (HTTP) and factory_db (SQL)
-> state (sqlite) -> config, connstr, rows (pure).
"""
