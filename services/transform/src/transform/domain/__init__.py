"""Pure domain of the transform service: standard library only, no I/O."""
