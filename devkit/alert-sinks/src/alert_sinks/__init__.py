"""Where rollsync's alerts land on a developer's machine: a mailbox and 企业微信/钉钉 robot stand-ins."""
