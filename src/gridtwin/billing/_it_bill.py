"""An Italian bill laid out as ARERA's "Bolletta 2.0": header data, quadro sintetico,
readings, consumption history and ricalcoli, in Italian (English on request).

The arithmetic stays in the billing engine (:func:`~gridtwin.billing.bill_for`); this
module regroups a :class:`~gridtwin.billing.Bill` into the five sections of the quadro
sintetico (materia energia; trasporto e gestione del contatore; oneri di sistema;
imposte; canone RAI on its own line outside IVA), adds the bonus sociale, the ricalcoli
and the other items (altre partite) as separate rows, and carries the header data a
customer finds on a real bill (POD, customer type, potenza impegnata and disponibile,
tensione, period, due date).

References
----------
.. [1] ARERA, Atlante del consumatore, "Che cos'è la potenza impegnata?"
   (https://www.arera.it/atlante/it/elettricita/capitolo_3/paragrafo_5/domanda_6e.htm):
   up to 30 kW of potenza impegnata, the potenza disponibile is the potenza impegnata
   increased by at least 10 %.
.. [2] The Switcho bill guide (gridtwin seed 001): the quadro sintetico, readings,
   consumo annuo, 12-month history, ricalcoli, altre partite, bonus sociale, canone RAI.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from gridtwin.billing._bill import Bill
from gridtwin.errors import InputError

__all__ = [
    "AVAILABLE_POWER_FACTOR",
    "AVAILABLE_POWER_LIMIT_KW",
    "SECTION_TEXTS",
    "ItalianBill",
    "QuadroRow",
    "ReadingRow",
    "Ricalcolo",
    "italian_bill",
    "potenza_disponibile_kw",
]

Lang = Literal["it", "en"]
#: Potenza disponibile = potenza impegnata x this factor, up to the limit below [1].
AVAILABLE_POWER_FACTOR = 1.10
#: Largest potenza impegnata [kW] for which the +10 % rule holds [1].
AVAILABLE_POWER_LIMIT_KW = 30.0
#: Days from the issue date to the due date when the offer's terms give none (an
#: assumption of this module, not an ARERA rule; pass the offer's own term).
DEFAULT_PAYMENT_DAYS = 20

#: Per section of the quadro sintetico: title, what it pays for, who sets it, and what
#: the customer can change by choosing an offer.
SECTION_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "it": {
        "energy": (
            "Spesa per la materia energia",
            "Paga l'energia consumata e la sua vendita: prezzo dell'energia, "
            "dispacciamento e commercializzazione. La fissa il venditore (nel servizio di "
            "tutela della vulnerabilità, ARERA): è l'unica parte che cambia scegliendo "
            "un'altra offerta.",
        ),
        "network": (
            "Spesa per il trasporto e la gestione del contatore",
            "Paga il trasporto dell'energia sulle reti e il contatore (quota fissa, quota "
            "potenza, quota energia). La fissa ARERA, uguale per tutti i venditori: "
            "cambiando offerta non cambia; si riduce abbassando la potenza impegnata.",
        ),
        "system": (
            "Spesa per oneri di sistema",
            "Paga attività di interesse generale (sostegno alle rinnovabili, ASOS, e altri "
            "oneri, ARIM). La fissa ARERA ogni trimestre, uguale per tutti i venditori.",
        ),
        "taxes": (
            "Imposte",
            "Accisa (imposta erariale di consumo, fissata dalla legge) e IVA (10 % per "
            "uso domestico, 22 % per altri usi). Non dipendono dal venditore.",
        ),
        "canone": (
            "Canone di abbonamento alla televisione",
            "Canone RAI per uso privato, addebitato sulla fornitura di residenza in rate "
            "mensili da gennaio a ottobre; fuori dal campo IVA. Esenti: over 75 con "
            "reddito entro il limite, chi dichiara di non avere la TV.",
        ),
        "bonus": (
            "Bonus sociale",
            "Sconto per disagio economico stabilito da ARERA secondo ISEE e componenti "
            "del nucleo; accreditato per giorni, fuori dal campo IVA.",
        ),
        "ricalcoli": (
            "Ricalcoli",
            "Differenza tra quanto fatturato in periodi precedenti con letture stimate e "
            "quanto dovuto secondo la lettura effettiva (conguaglio).",
        ),
        "other": (
            "Altre partite",
            "Importi diversi dalle voci precedenti (ad esempio interessi di mora, "
            "indennizzi, corrispettivi una tantum).",
        ),
    },
    "en": {
        "energy": (
            "Energy (materia energia)",
            "Pays for the energy used and its retail sale: energy price, dispatching and "
            "retail charges. Set by the supplier (in the vulnerable-customer service, by "
            "ARERA): the only part that changes when you choose another offer.",
        ),
        "network": (
            "Transport and metering",
            "Pays for carrying the energy over the networks and for the meter (fixed, per "
            "kW and per kWh parts). Set by ARERA, the same with every supplier; lowered "
            "only by a lower contracted power.",
        ),
        "system": (
            "System charges (oneri di sistema)",
            "Pays for general-interest costs (support for renewables, ASOS, and other "
            "charges, ARIM). Set by ARERA each quarter, the same with every supplier.",
        ),
        "taxes": (
            "Taxes",
            "Excise duty (set by law) and VAT (10 % for domestic use, 22 % for other "
            "uses). They do not depend on the supplier.",
        ),
        "canone": (
            "TV licence (canone RAI)",
            "Billed on the supply of residence in monthly instalments January to "
            "October; outside VAT. Exempt: over 75 within the income limit, households "
            "declaring they have no TV.",
        ),
        "bonus": (
            "Social bonus (bonus sociale)",
            "Discount for households in economic hardship set by ARERA by ISEE and "
            "household size; credited by day, outside VAT.",
        ),
        "ricalcoli": (
            "Recalculations (ricalcoli)",
            "Difference between what earlier periods billed on estimated readings and "
            "what is due on the actual reading (conguaglio).",
        ),
        "other": (
            "Other items (altre partite)",
            "Amounts outside the sections above (late-payment interest, compensation, "
            "one-off charges).",
        ),
    },
}

#: Labels of the page (header, tables) in both languages.
LABELS: dict[str, dict[str, str]] = {
    "it": {
        "title": "Bolletta luce",
        "pod": "Codice POD",
        "address": "Indirizzo di fornitura",
        "address_missing": "(indirizzo di fornitura non indicato)",
        "offer": "Offerta",
        "customer": "Tipologia cliente",
        "power": "Potenza impegnata",
        "available": "Potenza disponibile",
        "available_none": "oltre 30 kW: stabilita dal distributore",
        "voltage": "Tensione di fornitura",
        "period": "Periodo di riferimento",
        "issued": "Data di emissione",
        "due": "Scadenza",
        "quadro": "Quadro sintetico",
        "total": "Totale da pagare",
        "section": "Voce",
        "amount": "Importo",
        "readings": "Dettaglio letture",
        "date": "Data",
        "kind": "Tipo",
        "billed": "Consumo fatturato",
        "annual": "Consumo annuo",
        "annual_none": "non disponibile (meno di 12 mesi di dati)",
        "history": "Andamento dei consumi (ultimi 12 mesi)",
        "month": "Mese",
        "max_power": "Potenza massima prelevata",
        "ricalcolo": "Ricalcolo periodo",
        "details": "Dettaglio delle voci",
        "item": "Voce",
        "band": "Fascia",
        "quantity": "Quantità",
        "unit_price": "Prezzo unitario",
        "explain": "Che cosa paghi",
        "notes": "Note",
        "warnings": "Avvisi",
        "subtotal": "Totale",
        "lv": "Bassa tensione (BT)",
    },
    "en": {
        "title": "Electricity bill",
        "pod": "POD code",
        "address": "Supply address",
        "address_missing": "(supply address not given)",
        "offer": "Offer",
        "customer": "Customer type",
        "power": "Contracted power (potenza impegnata)",
        "available": "Available power (potenza disponibile)",
        "available_none": "over 30 kW: set by the distributor",
        "voltage": "Supply voltage",
        "period": "Billing period",
        "issued": "Issue date",
        "due": "Due date",
        "quadro": "Summary (quadro sintetico)",
        "total": "Total to pay",
        "section": "Section",
        "amount": "Amount",
        "readings": "Meter readings",
        "date": "Date",
        "kind": "Kind",
        "billed": "Consumption billed",
        "annual": "Annual consumption",
        "annual_none": "not available (less than 12 months of data)",
        "history": "Consumption over the last 12 months",
        "month": "Month",
        "max_power": "Maximum power drawn",
        "ricalcolo": "Recalculation of period",
        "details": "Bill lines",
        "item": "Item",
        "band": "Band",
        "quantity": "Quantity",
        "unit_price": "Unit price",
        "explain": "What you pay for",
        "notes": "Notes",
        "warnings": "Warnings",
        "subtotal": "Total",
        "lv": "Low voltage (LV)",
    },
}

#: Reading kinds as printed.
KIND_NAMES = {
    "it": {"actual": "effettiva", "estimated": "stimata", "self_read": "autolettura"},
    "en": {"actual": "actual", "estimated": "estimated", "self_read": "self-read"},
}


def potenza_disponibile_kw(potenza_impegnata_kw: float) -> float | None:
    """Potenza disponibile [kW] of a contracted power: +10 % up to 30 kW [1]; None above
    (the distributor decides).

    Raises
    ------
    InputError
        The contracted power is not a positive number.
    """
    if not math.isfinite(potenza_impegnata_kw) or potenza_impegnata_kw <= 0:
        msg = (
            f"contracted_kw={potenza_impegnata_kw}: the potenza impegnata must be a "
            "positive number of kW (e.g. --prop contracted_kw=3)"
        )
        raise InputError(msg)
    if potenza_impegnata_kw > AVAILABLE_POWER_LIMIT_KW:
        return None
    return round(potenza_impegnata_kw * AVAILABLE_POWER_FACTOR, 3)


@dataclass(frozen=True)
class ReadingRow:
    """One reading date of the meter: index per register [kWh] and its kind."""

    read_date: dt.date
    registers: dict[str, float]
    kind: str


@dataclass(frozen=True)
class Ricalcolo:
    """The correction of an earlier period billed on estimated readings.

    ``billed_kwh``/``corrected_kwh`` per register; ``amount`` = corrected total minus
    billed total (taxes included) [EUR]: positive is owed, negative is credited.
    """

    period_from: dt.date
    period_to: dt.date
    billed_kwh: dict[str, float]
    corrected_kwh: dict[str, float]
    billed_total: Decimal
    corrected_total: Decimal

    @property
    def amount(self) -> Decimal:
        """Corrected minus billed [EUR]."""
        return self.corrected_total - self.billed_total


@dataclass(frozen=True)
class QuadroRow:
    """One row of the quadro sintetico."""

    key: str
    title: str
    amount: Decimal
    explanation: str


@dataclass(frozen=True)
class ItalianBill:
    """A bill presented as ARERA's Bolletta 2.0 (see the module docstring)."""

    bill: Bill
    language: Lang
    pod: str
    address: str | None
    customer_type: str
    potenza_impegnata_kw: float | None
    potenza_disponibile_kw: float | None
    voltage: str
    issue_date: dt.date
    due_date: dt.date
    readings: tuple[ReadingRow, ...] = ()
    annual_kwh: float | None = None
    history: tuple[tuple[str, float], ...] = ()
    ricalcoli: tuple[Ricalcolo, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)
    #: Consumo fatturato per band as read (registers); default the tariff's bands.
    billed_by_band_kwh: dict[str, float] = field(default_factory=dict)

    @property
    def consumption_by_band(self) -> dict[str, float]:
        """kWh billed per band as read, else per band of the tariff's schedule."""
        return self.billed_by_band_kwh or self.bill.energy_by_band_kwh

    def label(self, key: str) -> str:
        """A page label in the bill's language."""
        return LABELS[self.language][key]

    def quadro(self) -> list[QuadroRow]:
        """The quadro sintetico: five sections, then bonus, ricalcoli, altre partite
        (each only when it has an amount), in order."""
        texts = SECTION_TEXTS[self.language]
        sums: dict[str, Decimal] = {}
        for ln in self.bill.lines:
            key = _quadro_key(ln.section, ln.component_id)
            sums[key] = sums.get(key, Decimal("0.00")) + ln.amount
        if self.ricalcoli:
            sums["ricalcoli"] = sum((r.amount for r in self.ricalcoli), Decimal("0.00"))
        rows = []
        for key in ("energy", "network", "system", "taxes", "canone", "bonus", "ricalcoli"):
            if key in sums or key in ("energy", "network", "system", "taxes"):
                title, text = texts[key]
                rows.append(QuadroRow(key, title, sums.get(key, Decimal("0.00")), text))
        if "other" in sums:
            title, text = texts["other"]
            rows.append(QuadroRow("other", title, sums["other"], text))
        return rows

    @property
    def total_to_pay(self) -> Decimal:
        """The bill's total plus the ricalcoli [EUR]."""
        return self.bill.total + sum((r.amount for r in self.ricalcoli), Decimal("0.00"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (strict JSON: no NaN; money as strings)."""
        return {
            "pod": self.pod,
            "address": self.address,
            "offer": self.bill.tariff_name,
            "customer_type": self.customer_type,
            "potenza_impegnata_kw": self.potenza_impegnata_kw,
            "potenza_disponibile_kw": self.potenza_disponibile_kw,
            "voltage": self.voltage,
            "period_from": self.bill.period_from.isoformat(),
            "period_to": self.bill.period_to.isoformat(),
            "issue_date": self.issue_date.isoformat(),
            "due_date": self.due_date.isoformat(),
            "quadro_sintetico": [
                {"key": r.key, "title": r.title, "amount": str(r.amount)} for r in self.quadro()
            ],
            "total_to_pay": str(self.total_to_pay),
            "readings": [
                {"date": r.read_date.isoformat(), "registers": r.registers, "kind": r.kind}
                for r in self.readings
            ],
            "billed_kwh_by_band": self.consumption_by_band,
            "annual_kwh": self.annual_kwh,
            "history_kwh": [{"month": m, "kwh": k} for m, k in self.history],
            "ricalcoli": [
                {
                    "period_from": r.period_from.isoformat(),
                    "period_to": r.period_to.isoformat(),
                    "billed_kwh": r.billed_kwh,
                    "corrected_kwh": r.corrected_kwh,
                    "billed_total": str(r.billed_total),
                    "corrected_total": str(r.corrected_total),
                    "amount": str(r.amount),
                }
                for r in self.ricalcoli
            ],
            "warnings": list(self.warnings),
        }


def _quadro_key(section: str, component_id: str) -> str:
    """The quadro sintetico row of a bill line."""
    if component_id.startswith("canone_rai"):
        return "canone"
    if component_id.startswith("bonus_sociale"):
        return "bonus"
    return section


def _customer_type(customers: Mapping[str, Any], lang: Lang) -> str:
    """Domestico residente / non residente, or altri usi (from the VAT use)."""
    if str(customers.get("vat_use", "domestic")) == "other":
        return "altri usi" if lang == "it" else "other uses"
    resident = bool(customers.get("resident", True))
    if lang == "it":
        return "domestico residente" if resident else "domestico non residente"
    return "domestic, resident" if resident else "domestic, non-resident"


def italian_bill(
    bill: Bill,
    *,
    customers: Mapping[str, Any] | None = None,
    language: Lang = "it",
    pod: str | None = None,
    address: str | None = None,
    readings: Sequence[ReadingRow] = (),
    history: Sequence[tuple[str, float]] = (),
    ricalcoli: Sequence[Ricalcolo] = (),
    issue_date: dt.date | None = None,
    payment_days: int = DEFAULT_PAYMENT_DAYS,
    billed_by_band_kwh: Mapping[str, float] | None = None,
) -> ItalianBill:
    """Present ``bill`` as a Bolletta 2.0.

    Parameters
    ----------
    bill : Bill
        The itemised bill of one meter and period.
    customers : mapping
        The customer properties it was billed with (``resident``, ``contracted_kw``,
        ``vat_use``, ``canone_rai``, ``bonus_sociale``...).
    language : {"it", "en"}
    pod, address : str, optional
        POD code (default the meter id) and supply address (default: a placeholder).
    readings : sequence of ReadingRow
        The readings printed in the readings table.
    history : sequence of (YYYY-MM, kWh)
        Monthly consumption, oldest first; the last 12 months are shown and summed as the
        consumo annuo when there are 12 of them.
    ricalcoli : sequence of Ricalcolo
        Corrections of earlier periods billed on estimated readings.
    issue_date : date, optional
        Default: the period's end date.
    payment_days : int
        Days from issue to the due date (the offer's payment term).
    billed_by_band_kwh : mapping, optional
        kWh billed per register as read (shown as the consumo fatturato per band).
    """
    if language not in LABELS:
        msg = f"--lang {language!r}: the Italian bill is printed in 'it' or 'en'"
        raise InputError(msg)
    if payment_days < 0:
        msg = f"--payment-days {payment_days}: give the offer's payment term in days (>= 0)"
        raise InputError(msg)
    cust = dict(customers or {})
    kw_raw = cust.get("contracted_kw")
    kw = float(kw_raw) if isinstance(kw_raw, int | float) else None
    available = potenza_disponibile_kw(kw) if kw is not None else None
    issued = issue_date or bill.period_to
    last12 = tuple(history)[-12:]
    annual = sum(k for _m, k in last12) if len(last12) == 12 else None
    warnings = list(_warnings(bill, cust, kw, available, language))
    return ItalianBill(
        bill=bill,
        language=language,
        pod=pod or bill.meter_id,
        address=address,
        customer_type=_customer_type(cust, language),
        potenza_impegnata_kw=kw,
        potenza_disponibile_kw=available,
        voltage=LABELS[language]["lv"],
        issue_date=issued,
        due_date=issued + dt.timedelta(days=payment_days),
        readings=tuple(readings),
        annual_kwh=annual,
        history=last12,
        ricalcoli=tuple(ricalcoli),
        warnings=tuple(warnings),
        billed_by_band_kwh=dict(billed_by_band_kwh or {}),
    )


def _warnings(
    bill: Bill, cust: Mapping[str, Any], kw: float | None, available: float | None, lang: Lang
) -> list[str]:
    """Measured power above the potenza disponibile; a bonus claimed but not granted."""
    out = []
    peak = bill.max_power_kw
    if peak is not None and available is not None and peak > available:
        out.append(
            f"La potenza massima misurata ({peak:.2f} kW) supera la potenza disponibile "
            f"({available:.2f} kW): il limitatore del contatore può interrompere la "
            "fornitura; valuta un aumento della potenza impegnata."
            if lang == "it"
            else f"The measured maximum power ({peak:.2f} kW) exceeds the available power "
            f"({available:.2f} kW): the meter may cut the supply; consider a higher "
            "contracted power."
        )
    if cust.get("bonus_sociale") and not any(
        ln.component_id.startswith("bonus_sociale") for ln in bill.lines
    ):
        out.append(
            "Bonus sociale richiesto ma non applicabile: servono fornitura di residenza e "
            "ISEE entro 9.530 euro (20.000 euro con almeno 4 figli a carico)."
            if lang == "it"
            else "Social bonus claimed but not applicable: it needs the supply of residence "
            "and an ISEE up to 9,530 EUR (20,000 EUR with four or more dependent children)."
        )
    return out
