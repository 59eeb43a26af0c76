"""sleuth.indexer."""
