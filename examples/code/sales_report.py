"""Summarise a CSV file of sales into totals per region and month."""

import csv
from collections import defaultdict
from pathlib import Path


def totals_by_region(path: Path) -> dict[str, float]:
    """Sum the ``amount`` column for each ``region`` of the CSV file at ``path``."""
    totals: dict[str, float] = defaultdict(float)
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            totals[row["region"]] += float(row["amount"])
    return dict(totals)


def best_month(path: Path) -> str:
    """The month (YYYY-MM) with the highest revenue."""
    months: dict[str, float] = defaultdict(float)
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            months[row["date"][:7]] += float(row["amount"])
    return max(months, key=months.__getitem__)
