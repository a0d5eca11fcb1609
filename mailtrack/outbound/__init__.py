"""Mail out: the outbox table, the mailers that deliver it, and the loop that flushes it."""
