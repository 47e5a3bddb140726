"""Following the log: the live event stream and webhooks delivered from an outbox."""
