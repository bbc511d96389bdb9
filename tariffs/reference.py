# Over 500 lines: duty estimates and lookups read one cached Reference's tables.
"""The in-memory tariff reference the classification engine uses: pure lookups, cached per schedule.

``get_reference(jurisdiction)`` reads the current schedule (and the current flag and measure
lists) once and keeps a ``Reference`` keyed by their ids; every method on it is pure Python over
dicts, so validation and duty estimates take microseconds and never touch the database.
"""

import bisect
import contextlib
import os
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from tariffs import bm25, codes, rates

CENT = Decimal("0.01")
# Origins whose goods take the column 2 rate (HTSUS general note 3(b) and later statutes).
COLUMN2_ORIGINS = {"CU": "Cuba", "KP": "North Korea", "RU": "Russia", "BY": "Belarus"}
AGENCIES = {
    "AL": "USDA APHIS (Lacey Act)",
    "AM": "USDA Agricultural Marketing Service",
    "AQ": "USDA APHIS (plant and animal health)",
    "DE": "Drug Enforcement Administration",
    "DT": "NHTSA (Department of Transportation)",
    "EH": "Department of Energy",
    "EP": "Environmental Protection Agency",
    "FD": "Food and Drug Administration",
    "FS": "USDA Food Safety and Inspection Service",
    "FW": "US Fish and Wildlife Service",
    "NM": "NOAA Fisheries",
    "OM": "Office of Foreign Missions",
    "TB": "Alcohol and Tobacco Tax and Trade Bureau",
    "AT": "Bureau of Alcohol, Tobacco, Firearms and Explosives",
}
# Special-programme indicators of the US schedule that are tied to named partner countries.
PROGRAMMES = {
    "AU": ("US-Australia FTA", {"AU"}),
    "BH": ("US-Bahrain FTA", {"BH"}),
    "CL": ("US-Chile FTA", {"CL"}),
    "CO": ("US-Colombia TPA", {"CO"}),
    "IL": ("US-Israel FTA", {"IL"}),
    "JO": ("US-Jordan FTA", {"JO"}),
    "JP": ("US-Japan Trade Agreement", {"JP"}),
    "KR": ("US-Korea FTA", {"KR"}),
    "MA": ("US-Morocco FTA", {"MA"}),
    "OM": ("US-Oman FTA", {"OM"}),
    "P": ("CAFTA-DR", {"CR", "DO", "SV", "GT", "HN", "NI"}),
    "PA": ("US-Panama TPA", {"PA"}),
    "PE": ("US-Peru TPA", {"PE"}),
    "S": ("USMCA", {"CA", "MX"}),
    "SG": ("US-Singapore FTA", {"SG"}),
    "NP": ("Nepal preference programme", {"NP"}),
}
# Beneficiary-list programmes: named as information; eligibility depends on designation lists.
LIST_PROGRAMMES = {
    "A": "GSP (lapsed since 31 Dec 2020)",
    "A*": "GSP, some beneficiaries excluded (lapsed since 31 Dec 2020)",
    "A+": "GSP, least-developed beneficiaries (lapsed since 31 Dec 2020)",
    "D": "AGOA (sub-Saharan Africa)",
    "E": "CBERA (Caribbean Basin)",
    "R": "CBTPA (Caribbean Basin textiles)",
}
# Chapters 98 and 99 are special provisions and temporary measures, not what goods are: they
# stay valid codes but are left out of the word search the engine uses as evidence.
SPECIAL_CHAPTERS = ("98", "99")
# Section 301 four-year-review increases (U.S. note 31): they replace the list 1-4 rate.
SECTION301_INCREASE_PREFIXES = ("990391", "990392")
_UNIT_ALIASES = {
    "no.": "each",
    "no": "each",
    "pcs": "each",
    "pieces": "each",
    "units": "each",
    "u": "each",
}


SEMANTIC_NOT_STARTED, SEMANTIC_BUILDING, SEMANTIC_READY = "not started", "building", "ready"


@dataclass(frozen=True, slots=True)
class Line:
    code: str
    indent: int
    description: str
    full_description: str
    units: tuple[str, ...]
    general_text: str
    special_text: str
    column2_text: str
    declarable: bool
    rate_inherited_from: str = ""

    @property
    def formatted(self) -> str:
        return codes.fmt(self.code)


# A line's fields in order: what is read back from a stored line and copied from a parsed one.
LINE_FIELDS = tuple(f.name for f in fields(Line))


def line_from(source) -> Line:
    """Return the ``Line`` of any object with its fields (a parsed ``ScheduleLine``)."""
    values = {name: getattr(source, name) for name in LINE_FIELDS}
    values["units"] = tuple(values["units"])
    return Line(**values)


@dataclass(frozen=True)
class Measure:
    """One additional-duty list entry that covers a code."""

    program: str  # "Section 301" or "Section 232"
    list_name: str
    heading: str  # chapter 99 code (digits), "" when the list does not name one
    prefix: str
    metal: str = ""

    def label(self) -> str:
        heading = f", {codes.fmt(self.heading)}" if self.heading else ""
        metal = f" {self.metal}" if self.metal else ""
        kind = "list" if self.program == "Section 301" else "annex"
        return f"{self.program}{metal} ({kind} {self.list_name}{heading})"


@dataclass(frozen=True)
class Flags:
    pga: list[str] = field(default_factory=list)
    agencies: list[str] = field(default_factory=list)
    antidumping: bool = False
    countervailing: bool = False
    section301: list[Measure] = field(default_factory=list)
    section232: list[Measure] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(
            self.pga
            or self.antidumping
            or self.countervailing
            or self.section301
            or self.section232
        )


class SearchHit(NamedTuple):
    # A tuple, not a frozen dataclass: a search builds sixty of these per product.
    code: str
    score: float
    full_description: str


@dataclass(frozen=True)
class DutyLine:
    label: str
    rate_text: str
    amount: Decimal | None
    source: str
    note: str = ""


@dataclass(frozen=True)
class DutyEstimate:
    code: str
    computable: bool
    total: Decimal | None
    currency: str | None
    lines: list[DutyLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    preferences: list[str] = field(default_factory=list)


@dataclass
class ReferenceData:
    """Plain data a ``Reference`` is built from (the ORM-facing loader fills it)."""

    jurisdiction: str
    revision: str
    schedule_id: int | None
    national: bool
    has_rates: bool
    lines: list[Line]
    hs_descriptions: dict[str, str] = field(default_factory=dict)
    pga: dict[str, tuple[tuple[str, ...], bool, bool]] = field(default_factory=dict)
    measures: list[Measure] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # kind -> label shown as a source
    sha256: str = ""  # the schedule file's SHA-256: keys the semantic index of this revision


class Reference:
    """Pure lookups over one schedule revision, its flags and additional-duty lists."""

    def __init__(self, data: ReferenceData):
        self.jurisdiction = data.jurisdiction
        self.revision = data.revision
        self.schedule_id = data.schedule_id
        self.national = data.national
        self.has_rates = data.has_rates
        self.sources = data.sources
        self.sha256 = data.sha256
        self._lines = {line.code: line for line in data.lines}
        self._codes = sorted(self._lines)
        self._hs = data.hs_descriptions
        self._pga = data.pga
        self._pga_by8: dict[str, list[str]] = defaultdict(list)
        for code10 in data.pga:
            self._pga_by8[code10[:8]].append(code10)
        self._measures: dict[str, list[Measure]] = defaultdict(list)
        for measure in data.measures:
            self._measures[measure.prefix].append(measure)
        self._flags_cache: dict[str, Flags] = {}
        self._index: bm25.SearchIndex | None = None
        self._index_lock = threading.Lock()
        self._semantic = None
        self._semantic_state = SEMANTIC_NOT_STARTED
        self._semantic_lock = threading.Lock()
        self._transformer = None
        self._transformer_state = SEMANTIC_NOT_STARTED
        self._transformer_thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<Reference {self.jurisdiction} {self.revision} national={self.national}>"

    # --- lines ------------------------------------------------------------------------------

    def line(self, code: str) -> Line | None:
        """Return the schedule line for a digit code, or None."""
        return self._lines.get(code)

    def is_declarable(self, code: str) -> bool:
        line = self._lines.get(code)
        return line is not None and line.declarable

    def lines(self) -> list[Line]:
        return list(self._lines.values())

    def declarable_under(self, prefix: str, limit: int = 10) -> list[str]:
        """Return up to ``limit`` declarable codes starting with ``prefix``, in code order."""
        found = sorted(
            c for c, line in self._lines.items() if line.declarable and c.startswith(prefix)
        )
        return found[:limit]

    def lines_under(self, prefix: str) -> list[Line]:
        """Return the lines whose code starts with ``prefix`` (the prefix's own included), in
        code order: a heading's tree, each line's path in its ``full_description``."""
        start = bisect.bisect_left(self._codes, prefix)
        end = bisect.bisect_left(self._codes, prefix + "\x7f", start)
        return [self._lines[c] for c in self._codes[start:end]]

    def hs_description(self, code: str) -> str:
        return self._hs.get(code[:6], "")

    # --- flags ------------------------------------------------------------------------------

    def flags(self, code: str) -> Flags:
        """Return agency, AD/CV and additional-duty flags (for 8 digits: any of its lines)."""
        if code not in self._flags_cache:
            self._flags_cache[code] = self._compute_flags(code)
        return self._flags_cache[code]

    def _compute_flags(self, code: str) -> Flags:
        if len(code) >= 10:
            matched = [code[:10]] if code[:10] in self._pga else []
        else:
            matched = [c for c in self._pga_by8.get(code[:8], []) if c.startswith(code)]
        pga = sorted({flag for c in matched for flag in self._pga[c][0]})
        agencies = sorted({AGENCIES.get(flag[:2], flag[:2]) for flag in pga})
        measures = [m for n in range(4, len(code) + 1) for m in self._measures.get(code[:n], [])]
        return Flags(
            pga=pga,
            agencies=agencies,
            antidumping=any(self._pga[c][1] for c in matched),
            countervailing=any(self._pga[c][2] for c in matched),
            section301=[m for m in measures if m.program == "Section 301"],
            section232=[m for m in measures if m.program == "Section 232"],
        )

    def section301_for_china(self, code: str) -> tuple[str, str] | None:
        """Return ``(label, "+25%")`` of the Section 301 duty on Chinese-origin goods, if any."""
        measures, _ = _section301_measures(self, self.flags(code).section301)
        if not measures:
            return None
        percent = _percent(self, measures[0])
        return measures[0].label(), f"+{percent}%" if percent is not None else "see chapter 99"

    # --- search -----------------------------------------------------------------------------

    def search(self, text: str, limit: int = 10, boost=None) -> list[SearchHit]:
        """Rank declarable lines for ``text`` (BM25 over descriptions, chapters 98/99 left out).

        ``boost`` (word -> factor) weighs some query words more (``bm25.SearchIndex.rank``).
        Digits search by code prefix instead, over every declarable line.
        """
        digits = re.sub(r"[\s.]+", "", text or "")
        if digits.isdigit():
            hits = [
                SearchHit(c, 1.0 if c == digits else 0.9, line.full_description)
                for c, line in self._lines.items()
                if line.declarable and c.startswith(digits)
            ]
            return hits[:limit]
        with self._index_lock:
            if self._index is None:
                self._index = _word_index(
                    [
                        (line.code, f"{line.full_description} {self._hs.get(line.code[:6], '')}")
                        for line in self._lines.values()
                        if line.declarable and not line.code.startswith(SPECIAL_CHAPTERS)
                    ]
                )
        return [
            SearchHit(code, score, self._lines[code].full_description)
            for code, score in self._index.rank(text, limit, boost)
        ]

    def semantic(self, *, wait: bool = False):
        """Return ``(SemanticIndex or None, why not)`` for this revision's semantic search.

        The index is read from ``var/embeddings/`` or built there (seconds, once per revision
        and machine). Without ``wait`` a worker never stalls on the build: the first call starts
        it on a thread and returns ``(None, "being built")`` until it is ready, so decisions made
        meanwhile use word search and say so. A missing model gives ``(None, reason)``.
        """
        with self._semantic_lock:
            state = self._semantic_state
            if state == SEMANTIC_NOT_STARTED:
                self._semantic_state = SEMANTIC_BUILDING
                thread = threading.Thread(target=self._build_semantic, daemon=True)
                thread.start()
                self._semantic_thread = thread
        if wait and self._semantic_state == SEMANTIC_BUILDING:
            self._semantic_thread.join()
        if self._semantic is not None:
            return self._semantic, ""
        if self._semantic_state == SEMANTIC_BUILDING:
            return None, (
                f"the semantic index of {self.jurisdiction} {self.revision} is being built; "
                "word search only"
            )
        return None, self._semantic_state

    def _build_semantic(self) -> None:
        from tariffs import semantic
        from workbench import embeddings

        try:
            built = semantic.load_or_build(self)
        except embeddings.ModelUnavailable as err:
            self._semantic_state = f"semantic search unavailable: {err}; word search only"
            return
        self._semantic = built
        self._semantic_state = SEMANTIC_READY

    def transformer(self, *, wait: bool = False):
        """Return ``(TransformerIndex or None, why not)``: the schedule's lines embedded by the
        transformer itself, for re-ranking a product's best candidates.

        Built once per revision and machine under ``var/embeddings/`` (minutes, not seconds), so
        without ``wait`` the first call starts it on a low-priority thread and returns
        ``(None, "being built")``; decisions meanwhile rank without it and say so.
        """
        from django.conf import settings

        if not getattr(settings, "TRANSFORMER_RERANK", True):
            return None, "the transformer re-rank is off (WORKBENCH_TRANSFORMER_RERANK)"
        with self._semantic_lock:
            if self._transformer_state == SEMANTIC_NOT_STARTED:
                self._transformer_state = SEMANTIC_BUILDING
                thread = threading.Thread(target=self._build_transformer, daemon=True)
                thread.start()
                self._transformer_thread = thread
        if wait and self._transformer_state == SEMANTIC_BUILDING:
            self._transformer_thread.join()
        if self._transformer is not None:
            return self._transformer, ""
        if self._transformer_state == SEMANTIC_BUILDING:
            return None, (
                f"the transformer vectors of {self.jurisdiction} {self.revision} are being "
                "built; no transformer re-rank"
            )
        return None, self._transformer_state

    def _build_transformer(self) -> None:
        from tariffs import semantic

        # Serving comes first: this thread yields the core to requests and batches.
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        try:
            built = semantic.load_or_build_transformer(self)
        except Exception as err:  # no model or onnxruntime, a damaged file: never crash a worker
            self._transformer_state = f"transformer re-rank unavailable: {err}"
            return
        self._transformer = built
        self._transformer_state = SEMANTIC_READY

    # --- duty -------------------------------------------------------------------------------

    def duty(
        self,
        code: str,
        *,
        origin: str,
        customs_value: Decimal | None,
        currency: str | None,
        quantity: Decimal | None = None,
        quantity_unit: str | None = None,
        net_weight_kg: Decimal | None = None,
    ) -> DutyEstimate:
        """Estimate duty line by line with sources; a total only when every line computes."""
        return _estimate(
            self,
            code,
            origin=(origin or "").upper(),
            value=customs_value,
            currency=(currency or "").upper() or None,
            quantities=_quantities(quantity, quantity_unit, net_weight_kg),
        )

    def source_label(self, code: str = "") -> str:
        where = f", {codes.fmt(code)}" if code else ""
        return f"{self.jurisdiction} {self.revision}{where}"


def _word_index(documents: list[tuple[str, str]]) -> bm25.SearchIndex:
    """Return the BM25 index of ``documents``, read from ``var/search/`` when it was built before.

    Building it takes a worker a second or more (every description tokenised, an array per word);
    reading the stored arrays, a few hundredths. The file is keyed by the documents themselves
    and the index's code (``bm25.fingerprint``), so a new revision, a changed HS text or a changed
    tokeniser is a new file, whatever the database calls the schedule.
    """
    from tariffs import derived

    path = derived.folder("search") / f"bm25-{bm25.fingerprint(documents)}.npz"
    return derived.load_or_build(
        path, lambda: bm25.SearchIndex(documents).to_arrays(), bm25.SearchIndex.from_arrays
    )


# --- duty -----------------------------------------------------------------------------------


def _quantities(quantity, unit, net_weight_kg) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    if net_weight_kg is not None:
        kg = Decimal(net_weight_kg)
        out.update({"kg": kg, "t": kg / 1000, "g": kg * 1000})
    if quantity is not None and unit:
        key = unit.strip().lower()
        name = _UNIT_ALIASES.get(key) or rates.UNITS.get(key) or key
        out.setdefault(name, Decimal(quantity))
        if name == "each":
            out.setdefault("doz.", Decimal(quantity) / 12)
            out.setdefault("gross", Decimal(quantity) / 144)
            out.setdefault("1000", Decimal(quantity) / 1000)
    return out


def _apply(rate: rates.Rate, value, currency, quantities) -> tuple[Decimal | None, str]:
    if not rate.readable:
        return (
            None,
            f"Rate cannot be computed automatically ({rate.reason}); read it in the schedule.",
        )
    amount = Decimal(0)
    if rate.ad_valorem is not None and rate.kind != rates.FREE:
        if value is None:
            return None, "Needs the customs value."
        amount += Decimal(value) * rate.ad_valorem / 100
    for part in rate.specific:
        if currency not in (None, "USD"):
            return (
                None,
                f"Specific rates are in USD; the value is in {currency} and no exchange rate "
                "is loaded.",
            )
        needed = quantities.get(part.unit)
        if needed is None:
            return (
                None,
                f"Needs the quantity in {part.unit} "
                f"(a specific rate of ${part.amount_usd}/{part.unit}).",
            )
        amount += part.amount_usd * needed
    return amount.quantize(CENT, ROUND_HALF_UP), ""


def _base_line(ref: Reference, line: Line, origin: str, value, currency, quantities) -> DutyLine:
    column2 = origin in COLUMN2_ORIGINS
    text = line.column2_text if column2 else line.general_text
    label = f"Column 2 rate ({COLUMN2_ORIGINS[origin]})" if column2 else "General (MFN) rate"
    source = ref.source_label(line.code)
    if line.rate_inherited_from:
        source += f" (rate of {codes.fmt(line.rate_inherited_from)})"
    amount, note = _apply(rates.parse(text), value, currency, quantities)
    return DutyLine(label, text or "(none given)", amount, source, note)


def _percent(ref: Reference, measure: Measure) -> Decimal | None:
    heading = ref.line(measure.heading)
    return rates.additional_percent(heading.general_text) if heading else None


def _section301_measures(
    ref: Reference, measures: list[Measure]
) -> tuple[list[Measure], list[str]]:
    """Choose the Section 301 entries that apply, saying why the others do not."""
    notes = []
    suspended = [
        m for m in measures if "suspended" in getattr(ref.line(m.heading), "description", "")
    ]
    for measure in suspended:
        notes.append(
            f"{measure.label()}: the provision is suspended (chapter 99 text); not applied."
        )
    active = [m for m in measures if m not in suspended]
    increases = [m for m in active if m.heading.startswith(SECTION301_INCREASE_PREFIXES)]
    if increases:
        replaced = [m for m in active if m not in increases]
        if replaced:
            notes.append(
                "Section 301: the four-year-review increase replaces "
                + ", ".join(m.label() for m in replaced)
                + " for this product (U.S. note 31 to chapter 99)."
            )
        active = increases
    if len(active) > 1:
        # One product falls under one list; an HTS8 on several lists means their product scopes
        # are narrower than the code. Count one (the highest) rather than stacking them.
        active.sort(key=lambda m: _percent(ref, m) or Decimal(0), reverse=True)
        notes.append(
            f"Section 301: this HTS8 is on {len(active)} lists ("
            + ", ".join(m.label() for m in active)
            + f"); their scopes are narrower than the code. The highest, {active[0].label()}, "
            "is used: confirm which one covers the product."
        )
        active = active[:1]
    return active, notes


def _section301_lines(ref: Reference, flags: Flags, value) -> tuple[list[DutyLine], list[str]]:
    measures, notes = _section301_measures(ref, flags.section301)
    out = []
    listed = ref.sources.get("section301", "Section 301 list")
    for measure in measures:
        percent = _percent(ref, measure)
        source = f"{listed}; {ref.source_label(measure.heading)}"
        if percent is None:
            heading = ref.line(measure.heading)
            note = f"No readable rate for {codes.fmt(measure.heading)} in {ref.revision}."
            text = heading.general_text if heading else "?"
            out.append(DutyLine(measure.label(), text, None, source, note))
            continue
        amount = None
        if value is not None:
            amount = (Decimal(value) * percent / 100).quantize(CENT, ROUND_HALF_UP)
        note = "" if value is not None else "Needs the customs value."
        out.append(DutyLine(measure.label(), f"+{percent}%", amount, source, note))
    return out, notes


def _section232_lines(ref: Reference, flags: Flags) -> list[DutyLine]:
    source = ref.sources.get("section232", "Section 232 annex list")
    return [
        DutyLine(
            measure.label(),
            "see chapter 99 (notes 16, 19 or 33)",
            None,
            source,
            "The rate depends on the annex, the origin and the value of the metal content; "
            "confirm the chapter 99 heading before entry.",
        )
        for measure in flags.section232
    ]


def _preferences(line: Line, origin: str) -> list[str]:
    out = []
    listed_other = []
    for rate_text, programme_codes in rates.special_programmes(line.special_text):
        for indicator in programme_codes:
            if indicator in PROGRAMMES and origin in PROGRAMMES[indicator][1]:
                out.append(
                    f"{PROGRAMMES[indicator][0]} ({indicator}): {rate_text} if the goods meet "
                    "its rules "
                    "of origin and the claim is made (not applied)."
                )
            elif indicator in LIST_PROGRAMMES:
                listed_other.append(f"{indicator} = {LIST_PROGRAMMES[indicator]}")
    if listed_other and not out:
        out.append("Also listed: " + "; ".join(sorted(set(listed_other))) + " (not applied).")
    return out


def _estimate(ref: Reference, code: str, *, origin, value, currency, quantities) -> DutyEstimate:
    def refused(note: str) -> DutyEstimate:
        return DutyEstimate(code, False, None, currency, [], [note], [])

    line = ref.line(code)
    if line is None:
        return refused(f"{codes.fmt(code)} is not in {ref.source_label()}.")
    if not ref.national or not ref.has_rates:
        return refused(
            f"No duty rates are loaded for {ref.jurisdiction} ({ref.revision}): no estimate."
        )
    if not line.declarable:
        return refused(f"{codes.fmt(code)} is not a declarable line; estimate a line below it.")
    if value is not None and Decimal(value) < 0:
        return refused("The customs value cannot be negative.")
    if value is not None and currency is None:
        return refused("Give the currency of the customs value.")
    lines = [_base_line(ref, line, origin, value, currency, quantities)]
    flags = ref.flags(code)
    notes = []
    if origin == "CN" and flags.section301:
        extra, extra_notes = _section301_lines(ref, flags, value)
        lines += extra
        notes += extra_notes
    if flags.section232:
        lines += _section232_lines(ref, flags)
    if flags.antidumping or flags.countervailing:
        which = " and ".join(
            n
            for n, f in (
                ("anti-dumping", flags.antidumping),
                ("countervailing", flags.countervailing),
            )
            if f
        )
        notes.append(
            f"CBP flags this code for {which} duty cases: deposits are case- and "
            "producer-specific and not included."
        )
    if currency not in (None, "USD"):
        notes.append(
            f"Amounts are in {currency}; CBP converts the value to USD at the certified "
            "rate of the export date."
        )
    notes.append(
        "Excludes the merchandise processing fee, harbour maintenance fee and any duties "
        "outside this schedule's lists."
    )
    computable = all(dl.amount is not None for dl in lines)
    total = sum((dl.amount for dl in lines), Decimal(0)) if computable else None
    if not computable:
        notes.insert(0, "No total: at least one line cannot be computed (see its note).")
    return DutyEstimate(code, computable, total, currency, lines, notes, _preferences(line, origin))


# --- loading and cache ----------------------------------------------------------------------

_cache: dict[tuple, Reference] = {}
_keys: dict[tuple[str, str | None], tuple[float, tuple | None]] = {}
_cache_lock = threading.Lock()
# How long a process trusts its idea of "the current revision" before asking the database again.
# Loads in this process clear the cache at commit; another process sees a new load within this.
KEY_TTL_SECONDS = 10.0


def _key(jurisdiction: str, revision: str | None) -> tuple | None:
    from tariffs import selectors

    now = time.monotonic()
    with _cache_lock:
        cached = _keys.get((jurisdiction, revision))
    if cached is not None and now - cached[0] < KEY_TTL_SECONDS:
        return cached[1]
    key = selectors.reference_key(jurisdiction, revision)
    with _cache_lock:
        _keys[(jurisdiction, revision)] = (now, key)
    return key


def get_reference(jurisdiction: str, revision: str | None = None) -> Reference | None:
    """Return the reference for a jurisdiction's current (or named) revision, cached.

    With no national schedule loaded, returns an HS-2022-only reference (``national = False``);
    returns None when a named revision does not exist or nothing at all is loaded. A load in
    this process is seen at once; one in another process within ``KEY_TTL_SECONDS``.
    """
    from tariffs import selectors

    key = _key(jurisdiction.upper(), revision)
    if key is None:
        return None
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    built = Reference(selectors.reference_data(key))
    with _cache_lock:
        # Keep only a few recent references: a US revision takes tens of MB of dicts.
        if len(_cache) >= 6:
            _cache.pop(next(iter(_cache)))
        return _cache.setdefault(key, built)


def clear_cache() -> None:
    """Forget every reference and current-revision answer (called when a load commits)."""
    with _cache_lock:
        _cache.clear()
        _keys.clear()
