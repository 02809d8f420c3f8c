"""rollsync alert-relay: Alertmanager webhooks -> 企业微信 / 钉钉 group-robot messages."""
