"""sleuth.extractors."""
