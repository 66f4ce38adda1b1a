"""Notes for the items a tariff's prices leave out (``not_included:`` in a tariff file).

A regulated supply price often excludes items billed elsewhere (the Slovak ÚRSO decisions
leave out distribution, the TSS/TPS system tariffs, the NJF levy, excise and VAT). An item
that no applied component prices is stated on the bill as not included, so a bill never
looks complete when it is not.
"""

from __future__ import annotations

from gridtwin.billing._result import BillingResult

__all__ = ["not_included_notes"]


def not_included_notes(result: BillingResult) -> list[str]:
    """One note per ``not_included`` item of the tariff (and its sets) that no applied
    line of ``result`` prices.

    Parameters
    ----------
    result : BillingResult
        A billing run; its lines say which components applied to some meter and period.

    Returns
    -------
    list of str
        ``"Not included: <label> (<explanation>)"`` in the order of the documents.
    """
    applied = {
        spec.component_id
        for j, spec in enumerate(result.lines)
        if result.applies.size and bool(result.applies[:, j].any())
    }
    notes = []
    for doc in result.tariff.documents():
        for item in doc.not_included:
            if not applied.intersection(item.priced_by):
                notes.append(f"Not included: {item.label} ({item.explanation})")
    return notes
