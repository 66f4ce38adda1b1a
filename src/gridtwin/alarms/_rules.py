"""Alarm rules as validated data: the rule-file schema, limit references, loading.

A rule file (YAML or TOML) holds a list of rules and optional settings of the alarm system.
Each rule names a quantity (``vm_pu``, ``loading_percent``, ``hot_spot_c``, or a
measurement point's quantity), the elements it watches (a table such as ``bus``, ``line``,
``trafo``, ``point``, with ids or ``all``, optionally a voltage level and tags), a ``high``
or ``low`` limit given as a value or a reference, a deadband, delays, a priority, a message
template, its kind (``actual``, or ``potential``: also evaluated on a forecast) and whether
it latches.

Limit references
----------------
``standard:<standard>:<level>.<indicator>[.<band>]``
    A band of a supply-voltage limit set of :mod:`gridtwin.quality` (GOST 32144-2013,
    EN 50160:2010), e.g. ``standard:EN 50160:2010:LV.voltage_deviation``. ``<band>`` is
    ``share`` (the band for e.g. 95 % of the week) or ``max`` (the 100 % band); without
    it the narrowest band is used (the share band if there is one). ``<standard>`` may be
    ``*``: the standard the rules are loaded for (``load_rules(..., standard=...)``), so
    one file serves either standard. The band is a deviation in % of U0; for ``vm_pu``
    the limit is ``u0_pu * (1 + band / 100)`` with the element's U0 (see
    :class:`gridtwin.alarms.ElementInfo`), for ``voltage_deviation_percent`` it is the
    band itself.
``rating``
    100 % of the element's rating, for a ``*_percent`` loading quantity.

Priorities
----------
``critical``, ``high``, ``medium``, ``low``. ISA-18.2 / EEMUA 191 guidance for the
annunciated alarms of a well-run system is about 80 % low, 15 % medium and 5 % high, with
critical (the highest, safety-related) alarms very few (well under 1 %);
:func:`gridtwin.alarms.priority_distribution` compares a log with it.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gridtwin._datafile import read_data_file, validation_message
from gridtwin.alarms._model import AlarmConfig, Priority
from gridtwin.errors import InputError

__all__ = [
    "MESSAGE_FIELDS",
    "PRIORITY_TARGET_PERCENT",
    "AlarmRule",
    "ElementsSpec",
    "LimitSpec",
    "RuleFileSpec",
    "RuleSet",
    "RuleSpec",
    "SystemSpec",
    "default_rules",
    "load_rules",
    "rules_from_dict",
]

#: ISA-18.2 / EEMUA 191 target split of annunciated alarms by priority [%] (approximate;
#: ``critical`` is "very few", taken here as under 1 %).
PRIORITY_TARGET_PERCENT: dict[str, float] = {
    "critical": 1.0,
    "high": 5.0,
    "medium": 15.0,
    "low": 80.0,
}

#: Fields a message template may use, e.g. ``"{element}: {value:.3f} pu > {limit:.3f} pu"``.
MESSAGE_FIELDS: frozenset[str] = frozenset(
    {"rule", "element", "table", "id", "quantity", "value", "limit", "priority", "source"}
)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_STANDARD_REF = re.compile(r"^standard:(?P<std>.+):(?P<item>[A-Z]+\.[a-z0-9_]+(\.(share|max))?)$")
_VOLTAGE_QUANTITIES = ("vm_pu", "voltage_deviation_percent")
_DEFAULT_FILE = "default-rules.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LimitSpec(_Strict):
    """``kind`` (``high``: alarm above, ``low``: alarm below) and ``value`` or ``reference``."""

    kind: Literal["high", "low"]
    value: float | None = None
    reference: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> LimitSpec:
        if (self.value is None) == (self.reference is None):
            msg = "give exactly one of `value` (a number) and `reference` (e.g. 'rating')"
            raise ValueError(msg)
        if self.value is not None and not math.isfinite(self.value):
            msg = f"`value` must be a finite number, got {self.value}"
            raise ValueError(msg)
        ref = self.reference
        if ref is not None and ref != "rating" and not _STANDARD_REF.match(ref):
            msg = (
                f"`reference` {ref!r} must be 'rating' or "
                "'standard:<standard or *>:<level>.<indicator>[.share|.max]' "
                "(e.g. 'standard:EN 50160:2010:LV.voltage_deviation')"
            )
            raise ValueError(msg)
        return self


class ElementsSpec(_Strict):
    """The elements a rule watches: a table, ids or ``all``, optional level and tags."""

    table: str = Field(pattern=_NAME.pattern)
    ids: Literal["all"] | list[str | int] = "all"
    voltage_level: Literal["LV", "MV", "HV"] | None = None
    tags: list[str] = Field(default_factory=list)

    @field_validator("ids")
    @classmethod
    def _nonempty(cls, v: Literal["all"] | list[str | int]) -> Literal["all"] | list[str | int]:
        if isinstance(v, list) and not v:
            msg = "`ids` is empty: list element ids or write `all`"
            raise ValueError(msg)
        return v


class RuleSpec(_Strict):
    """One alarm rule as written in a rule file."""

    id: str = Field(pattern=_ID.pattern)
    quantity: str = Field(pattern=_NAME.pattern)
    elements: ElementsSpec
    limit: LimitSpec
    deadband: float = Field(0.0, ge=0)
    delay_on_s: float = Field(0.0, ge=0)
    delay_off_s: float = Field(0.0, ge=0)
    priority: Priority
    message: str = Field(min_length=1)
    kind: Literal["actual", "potential"] = "actual"
    latching: bool = False
    source: str = Field(min_length=1)
    verification: Literal["data", "corpus", "memory", "policy"] = "policy"
    note: str = ""

    @field_validator("message")
    @classmethod
    def _template(cls, v: str) -> str:
        try:
            names = {f for _, f, _, _ in string.Formatter().parse(v) if f is not None}
            unknown = sorted(names - MESSAGE_FIELDS)
            if unknown:
                msg = f"unknown field(s) {unknown} in the template; use {sorted(MESSAGE_FIELDS)}"
                raise ValueError(msg)
            _render(v, {k: (1.0 if k in ("value", "limit") else "x") for k in MESSAGE_FIELDS})
        except (ValueError, IndexError, KeyError) as exc:
            msg = f"bad message template: {exc}"
            raise ValueError(msg) from exc
        return v

    @model_validator(mode="after")
    def _reference_fits(self) -> RuleSpec:
        ref = self.limit.reference
        if ref == "rating" and not self.quantity.endswith("_percent"):
            msg = (
                f"limit.reference 'rating' (100 % of the rating) needs a quantity in percent "
                f"of the rating (e.g. loading_percent), not {self.quantity!r}"
            )
            raise ValueError(msg)
        if ref is not None and ref.startswith("standard:"):
            if self.quantity not in _VOLTAGE_QUANTITIES:
                msg = (
                    f"a standard's voltage band applies to {list(_VOLTAGE_QUANTITIES)}, "
                    f"not {self.quantity!r}"
                )
                raise ValueError(msg)
            level = _STANDARD_REF.match(ref)["item"].split(".")[0]  # type: ignore[index]
            if self.elements.voltage_level != level:
                msg = (
                    f"limit.reference is the {level} band: set elements.voltage_level: {level} "
                    "so the rule watches only that level"
                )
                raise ValueError(msg)
        return self


class SystemSpec(_Strict):
    """Settings of the alarm system (see :class:`gridtwin.alarms.AlarmConfig`)."""

    max_shelve_s: float = Field(8 * 3600.0, gt=0)
    chattering_activations: int = Field(3, ge=2)
    chattering_window_s: float = Field(60.0, gt=0)
    note: str = ""


class RuleFileSpec(_Strict):
    """Schema of a rule file."""

    schema_version: Literal[1]
    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    source: str = Field(min_length=1)
    notes: list[str] = Field(default_factory=list)
    system: SystemSpec = SystemSpec()
    rules: list[RuleSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> RuleFileSpec:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                msg = f"rule id {rule.id!r} is used twice; rule ids must be unique"
                raise ValueError(msg)
            seen.add(rule.id)
        return self


def _render(template: str, fields: Mapping[str, Any]) -> str:
    return template.format(**fields)


@dataclass(frozen=True)
class AlarmRule:
    """A validated rule with its limit resolved.

    Attributes
    ----------
    id, quantity, table : str
    ids : frozenset of str or None
        Element ids watched (None: all of the table).
    voltage_level : {'LV', 'MV', 'HV'} or None
    tags : frozenset of str
        An element must carry all of them (:class:`gridtwin.alarms.ElementInfo`).
    direction : {'high', 'low'}
    limit : float
        The limit in the quantity's unit; for a standard band on ``vm_pu`` it is the band
        in % of U0 and :meth:`limit_for` turns it into pu.
    limit_is_u0_percent : bool
        ``limit`` is a deviation in % of U0 to apply to ``vm_pu``.
    deadband : float
        The value must come back this far inside the limit to clear [quantity's unit].
    delay_on_s, delay_off_s : float
        How long the condition must hold before it activates / clears [s].
    priority, message, kind, latching, source :
        As in the file.
    reference : str or None
        The reference the limit came from, resolved (``*`` replaced).
    notes : tuple of str
        Verification notes of the referenced limit, to print with the alarm.
    """

    id: str
    quantity: str
    table: str
    ids: frozenset[str] | None
    voltage_level: str | None
    tags: frozenset[str]
    direction: Literal["high", "low"]
    limit: float
    limit_is_u0_percent: bool
    deadband: float
    delay_on_s: float
    delay_off_s: float
    priority: Priority
    message: str
    kind: Literal["actual", "potential"]
    latching: bool
    source: str
    reference: str | None = None
    notes: tuple[str, ...] = ()

    def limit_for(self, u0_pu: float = 1.0) -> float:
        """The limit for an element with reference voltage ``u0_pu`` [quantity's unit]."""
        if self.limit_is_u0_percent:
            return u0_pu * (1.0 + self.limit / 100.0)
        return self.limit

    def message_for(self, element: str, value: float | None, limit: float) -> str:
        """The rule's message for one element and value."""
        table, _, ident = element.partition(":")
        return _render(
            self.message,
            {
                "rule": self.id,
                "element": element,
                "table": table,
                "id": ident,
                "quantity": self.quantity,
                "value": math.nan if value is None else value,
                "limit": limit,
                "priority": self.priority,
                "source": self.source,
            },
        )


@dataclass(frozen=True)
class RuleSet:
    """The rules of one file, the alarm-system settings and the file's notes."""

    id: str
    rules: tuple[AlarmRule, ...]
    config: AlarmConfig
    path: str
    notes: tuple[str, ...] = ()
    standard: str | None = None

    def rule(self, rule_id: str) -> AlarmRule:
        """One rule by id."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        msg = f"{self.path}: no rule {rule_id!r}; rules: {', '.join(r.id for r in self.rules)}"
        raise InputError(msg)


def _standard_band(ref: str, direction: str, standard: str | None) -> tuple[float, str, list[str]]:
    """The band edge [% of U0] a ``standard:`` reference names, the resolved reference and
    the limit's verification notes; ValueError says what is wrong."""
    from gridtwin.quality import builtin_limit_set_ids, get_limit_set

    m = _STANDARD_REF.match(ref)
    if m is None:  # pragma: no cover - the schema checked the syntax
        raise ValueError(ref)
    std = m["std"]
    if std == "*":
        if standard is None:
            msg = (
                "uses `*` for the standard: load the rules with "
                "standard='GOST 32144-2013' or 'EN 50160:2010'"
            )
            raise ValueError(msg)
        std = standard
    if std not in builtin_limit_set_ids():
        msg = f"unknown standard {std!r}; built-in: {list(builtin_limit_set_ids())}"
        raise ValueError(msg)
    level, name, *band = m["item"].split(".")
    try:
        ind = get_limit_set(std).indicator(level, name)
    except InputError as exc:
        raise ValueError(str(exc)) from exc
    if not ind.kind.startswith("voltage"):
        msg = f"{std} {level}.{name} is not a voltage deviation in % of U0 (kind {ind.kind})"
        raise ValueError(msg)
    lim = (
        {"share": ind.share_limit, "max": ind.max_limit}.get(band[0])
        if band
        else ind.narrowest_limit
    )
    if lim is None:
        msg = f"{std} {level}.{name} has no {band[0]!r} band; its limits: {ind.limits_text()}"
        raise ValueError(msg)
    edge = lim.upper if direction == "high" else lim.lower
    if edge is None:
        msg = f"{std} {level}.{name} has no {'upper' if direction == 'high' else 'lower'} limit"
        raise ValueError(msg)
    resolved = f"standard:{std}:{m['item']} ({ind.citation}, {lim.share_percent:g} % band)"
    return float(edge), resolved, list(ind.verification_notes())


def _resolve(spec: RuleSpec, standard: str | None) -> AlarmRule:
    """The rule with its limit resolved; ValueError names what is wrong."""
    ref, notes = spec.limit.reference, list[str]()
    u0_percent = False
    if ref is None:
        limit = float(spec.limit.value)  # type: ignore[arg-type]
    elif ref == "rating":
        limit = 100.0
    else:
        limit, ref, notes = _standard_band(ref, spec.limit.kind, standard)
        u0_percent = spec.quantity == "vm_pu"
    ids = None if spec.elements.ids == "all" else frozenset(str(i) for i in spec.elements.ids)
    return AlarmRule(
        id=spec.id,
        quantity=spec.quantity,
        table=spec.elements.table,
        ids=ids,
        voltage_level=spec.elements.voltage_level,
        tags=frozenset(spec.elements.tags),
        direction=spec.limit.kind,
        limit=limit,
        limit_is_u0_percent=u0_percent,
        deadband=spec.deadband,
        delay_on_s=spec.delay_on_s,
        delay_off_s=spec.delay_off_s,
        priority=spec.priority,
        message=spec.message,
        kind=spec.kind,
        latching=spec.latching,
        source=spec.source,
        reference=ref,
        notes=tuple(notes),
    )


def rules_from_dict(
    data: Mapping[str, Any], where: str = "<rules>", *, standard: str | None = None
) -> RuleSet:
    """Validate a rule-file mapping and resolve its limit references.

    Parameters
    ----------
    data : mapping
        The parsed file, following :class:`RuleFileSpec`.
    where : str
        Name of the source used in messages (the file path).
    standard : str, optional
        The standard ``standard:*:...`` references stand for.

    Raises
    ------
    InputError
        Every problem found, one line each: ``<where>: rules.2.limit.reference: <reason>``.
    """
    try:
        spec = RuleFileSpec.model_validate(dict(data))
    except ValidationError as exc:
        raise InputError(validation_message(where, exc)) from exc
    rules, problems = [], []
    for k, rs in enumerate(spec.rules):
        try:
            rules.append(_resolve(rs, standard))
        except ValueError as exc:
            problems.append(f"{where}: rules.{k}.limit.reference: {exc}")
    if problems:
        raise InputError("\n".join(problems))
    s = spec.system
    config = AlarmConfig(s.max_shelve_s, s.chattering_activations, s.chattering_window_s)
    return RuleSet(spec.id, tuple(rules), config, where, tuple(spec.notes), standard)


def load_rules(path: str | Path, *, standard: str | None = None) -> RuleSet:
    """Load a rule file (YAML or TOML).

    Parameters
    ----------
    path : str or Path
    standard : {'GOST 32144-2013', 'EN 50160:2010'}, optional
        The standard ``standard:*:...`` references stand for.

    Raises
    ------
    InputError
        The file cannot be read, or a field is missing, unknown or invalid (every problem,
        each with the file and the field path).
    """
    p = Path(path)
    return rules_from_dict(read_data_file(p, InputError), str(p), standard=standard)


def default_rules(standard: str = "GOST 32144-2013") -> RuleSet:
    """The built-in rules for distribution networks (``data/default-rules.yaml``).

    Parameters
    ----------
    standard : {'GOST 32144-2013', 'EN 50160:2010'}
        The supply-voltage standard of the customer-voltage rules.
    """
    if standard not in get_args(_Standards):
        msg = f"standard={standard!r}: use one of {list(get_args(_Standards))}"
        raise InputError(msg)
    return _default_rules(standard)


_Standards = Literal["GOST 32144-2013", "EN 50160:2010"]


@cache
def _default_rules(standard: str) -> RuleSet:
    path = Path(str(resources.files("gridtwin.alarms") / "data" / _DEFAULT_FILE))
    return load_rules(path, standard=standard)
