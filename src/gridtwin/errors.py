"""The one exception tree of gridtwin.

Every error the library raises on purpose is a :class:`GridTwinError`. Messages say
*what* is wrong, *where* (file, row, field) and *how to fix it*.

::

    GridTwinError
    ├── InputError (ValueError)         bad user data: files, rows, fields, arguments
    │   ├── DataQualityError            gaps, duplicates, NaN/negative values, DST ambiguity
    │   └── EligibilityError            a customer may not take (or switch to) a tariff
    ├── TariffError (ValueError)        a tariff file or a tariff's use is wrong
    │   ├── TariffSchemaError           a tariff file does not validate (file, field, reason)
    │   └── TariffValidityError         a period falls outside a tariff's effective dates
    ├── CalendarError (ValueError)      a calendar or band schedule is wrong
    ├── ConvergenceError (RuntimeError) a numerical method did not converge
    ├── NotFoundError (LookupError)     a named object (point, user, alarm) does not exist
    └── StoreError (RuntimeError)       the data store failed

Third-party errors are translated at the boundary with ``raise ... from exc``.
"""

from __future__ import annotations

__all__ = [
    "CalendarError",
    "ConvergenceError",
    "DataQualityError",
    "EligibilityError",
    "GridTwinError",
    "InputError",
    "NotFoundError",
    "StoreError",
    "TariffError",
    "TariffSchemaError",
    "TariffValidityError",
]


class GridTwinError(Exception):
    """Base class of every error raised on purpose by gridtwin."""


class InputError(GridTwinError, ValueError):
    """User input (a file, a row, a field, an argument) is invalid."""


class DataQualityError(InputError):
    """Measured data has gaps, duplicates, NaN or negative values, or DST ambiguities."""


class EligibilityError(InputError):
    """A customer does not meet a tariff's eligibility rules."""


class TariffError(GridTwinError, ValueError):
    """A tariff file, or the way a tariff is used, is invalid."""


class TariffSchemaError(TariffError):
    """A tariff file does not validate against the schema."""


class TariffValidityError(TariffError):
    """A billing period falls outside the effective dates of a tariff."""


class CalendarError(GridTwinError, ValueError):
    """A calendar, a holiday rule or a band schedule is invalid."""


class ConvergenceError(GridTwinError, RuntimeError):
    """A numerical method did not converge."""


class NotFoundError(GridTwinError, LookupError):
    """A named object (a measurement point, a user, an alarm) does not exist."""


class StoreError(GridTwinError, RuntimeError):
    """The data store failed."""
