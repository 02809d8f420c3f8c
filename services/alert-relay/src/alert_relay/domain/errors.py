"""Errors of the relay's own vocabulary."""


class RobotRefusedError(Exception):
    """The robot did not take the message (HTTP error, errcode != 0, or no answer). Never carries the URL."""
