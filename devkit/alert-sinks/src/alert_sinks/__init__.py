"""Where rollsync's alerts go on a developer's machine: a mailbox, two robot stand-ins, and the robot relay."""
