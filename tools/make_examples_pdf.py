"""Writes examples/docs/travel-policy.pdf, the sample corpus PDF (committed; re-run to refresh)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from pdfgen import make_pdf  # noqa: E402

PAGE_1 = """Travel and expenses policy

1. Booking travel
Book trains and flights through the company travel portal at least
two weeks ahead. Economy class is the rule for trips under six hours.
Trains are preferred over flights for journeys under four hours.

2. Approval
Your manager approves every trip before you book it."""

PAGE_2 = """3. Hotels and daily allowance
Hotel costs are reimbursed up to 150 euros per night in most cities
and up to 220 euros per night in London, Paris and New York.
The daily meal allowance is 45 euros; keep every receipt.

4. Claiming expenses
Submit your expense claim within 30 days of returning, with scanned
receipts attached. Reimbursement arrives with the next salary."""

if __name__ == "__main__":
    out = ROOT / "examples" / "docs" / "travel-policy.pdf"
    out.write_bytes(make_pdf([PAGE_1, PAGE_2], title="Travel and expenses policy"))
    print(out)
