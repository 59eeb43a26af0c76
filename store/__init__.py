"""sleuth.store."""
