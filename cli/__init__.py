"""sleuth.cli."""
