# Over 500 lines: one _Parser; its checks share its key tables and line map.
"""Parse rule-pack TOML into a ``CompiledPack``, reporting every problem with its line.

Syntax errors carry tomllib's line and column. Schema errors name the entry and key
(``rule "knit-sweater": confidence 1.4 is above 1``) and the line where that key is written,
found by scanning the source (tomllib keeps no positions). Range and consistency checks that are
gates of their own (unique ids, thresholds, declarable codes, empty conditions, size limits)
are not made here: see ``rulepacks.gates``.
"""

import hashlib
import re
import tomllib
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

from rulepacks.format import compiled as c
from rulepacks.format.compiled import FACT_KEYS
from rulepacks.format.normalize import tokens

JURISDICTIONS = ("US", "EU", "GB")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
CODE_RE = re.compile(r"^\d{2,10}$")
_SYNTAX_POS = re.compile(r"\(at line (\d+), column (\d+)\)")
_ROUTING_KEYS = {
    "high_risk_origins",
    "agency_review",
    "auto_finalize",
    "spot_check",
    "four_eyes",
}
_THRESHOLD_KEYS = ("min_confidence", "tie_margin")
_TOP_KEYS = {
    "pack",
    "thresholds",
    "routing",
    "monitoring",
    "rules",
    "restrictions",
    "denied",
    "golden",
    "synonyms",
}
_SYNONYM_CODE = re.compile(r"^\d{2}(?:\d{2}){0,4}$")
# section -> (singular used in messages, allowed keys, required keys)
_ENTRY_KEYS = {
    "rules": ("rule", {"id", "code", "confidence", "risk", "rationale", "when"}),
    "restrictions": ("restriction", {"id", "action", "risk", "reason", "when"}),
    "denied": ("denied good", {"id", "reason", "when"}),
    "golden": ("golden case", {"id", "code", "outcome", "facts"}),
}


@dataclass(frozen=True)
class Problem:
    """One error: what is wrong, and where (line, entry such as ``rule "x"``, key)."""

    message: str
    line: int | None = None
    entry: str = ""
    key: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.message}"

    def as_dict(self) -> dict:
        return {"message": self.message, "line": self.line, "entry": self.entry, "key": self.key}


@dataclass
class ParseResult:
    pack: c.CompiledPack | None
    problems: list[Problem] = field(default_factory=list)
    syntax_ok: bool = True

    @property
    def ok(self) -> bool:
        return self.pack is not None and not self.problems


class _Lines:
    """Find the line where an entry or key is written (1-based), by scanning the source."""

    def __init__(self, source: str):
        self.lines = source.splitlines()
        self.headers: dict[str, list[int]] = {}
        for number, text in enumerate(self.lines, start=1):
            match = re.match(r"^\s*\[\[\s*([A-Za-z_]+)\s*\]\]", text)
            if match:
                self.headers.setdefault(match.group(1), []).append(number)

    def entry(self, section: str, index: int) -> int | None:
        found = self.headers.get(section, [])
        return found[index] if index < len(found) else None

    def key(self, section: str | None, index: int, path: tuple[str, ...]) -> int | None:
        start = self.entry(section, index) if section else 1
        if start is None:
            return None
        last = path[-1]
        key_re = re.compile(rf"(^|[\s{{,.\[]){re.escape(last)}\s*(=|\])")
        for number in range(start, len(self.lines) + 1):
            text = self.lines[number - 1]
            if number > start and re.match(r"^\s*\[\[", text):
                break
            if key_re.search(text.split("#", 1)[0]):
                return number
        return start

    def table_key(self, table: str, key: str) -> int | None:
        """The line of ``key`` (bare or quoted) in a plain ``[table]``, or the header's line."""
        header = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]")
        key_re = re.compile(rf"""^\s*(["']?){re.escape(key)}\1\s*=""")
        start = next((n for n, t in enumerate(self.lines, 1) if header.match(t)), None)
        if start is None:
            return None
        for number in range(start + 1, len(self.lines) + 1):
            text = self.lines[number - 1]
            if re.match(r"^\s*\[", text):
                break
            if key_re.match(text):
                return number
        return start


class _Parser:
    def __init__(self, source: str, jurisdictions: tuple[str, ...]):
        self.source = source
        self.jurisdictions = jurisdictions
        self.lines = _Lines(source)
        self.problems: list[Problem] = []

    # -- reporting ---------------------------------------------------------------------------

    def error(self, message, *, section=None, index=0, entry="", path=()):
        line = self.lines.key(section, index, path) if path else None
        if line is None and section:
            line = self.lines.entry(section, index)
        prefix = f"{entry}: " if entry else ""
        key = ".".join(path)
        self.problems.append(Problem(prefix + message, line=line, entry=entry, key=key))

    # -- scalar readers ----------------------------------------------------------------------

    def string(self, table, key, where, *, required=True, default=""):
        value = table.get(key)
        if value is None:
            if required:
                self.error(f"{key} is missing", **where, path=(key,))
            return default
        if not isinstance(value, str):
            self.error(f"{key} must be text, not {type(value).__name__}", **where, path=(key,))
            return default
        return value.strip()

    def number(self, table, key, where, default):
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(f"{key} must be a number, not {value!r}", **where, path=(key,))
            return default
        return float(value)

    def boolean(self, table, key, where, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.error(f"{key} must be true or false, not {value!r}", **where, path=(key,))
            return default
        return value

    def choice(self, table, key, options, where, default=None):
        value = table.get(key, default)
        if value not in options:
            shown = " or ".join(options)
            if value is None:
                self.error(f"{key} is missing (one of {shown})", **where, path=(key,))
            else:
                self.error(f"{key} {value!r} is not one of {shown}", **where, path=(key,))
            return options[0]
        return value

    def unknown_keys(self, table, allowed, where, path=()):
        for key in sorted(set(table) - set(allowed)):
            self.error(
                f"unknown key {'.'.join((*path, key))!r} (allowed: {', '.join(sorted(allowed))})",
                **where,
                path=(*path, key),
            )

    # -- conditions --------------------------------------------------------------------------

    def terms(self, raw, where, path) -> tuple[c.Term, ...]:
        if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
            self.error(f"{'.'.join(path)} must be a list of text terms", **where, path=path)
            return ()
        out = []
        for text in raw:
            words = tokens(text)
            if not words:
                self.error(
                    f"{'.'.join(path)} term {text!r} has no letters or digits", **where, path=path
                )
                continue
            out.append(c.Term(text=text, words=words))
        return tuple(out)

    def text_conditions(self, key, raw, where) -> list[c.TextCondition]:
        """A list of terms (any of), a table of any / all / none, or a list of such tables
        (each must hold: ``[{ any = ["t-shirt", "tee"] }, { any = ["men", "mens"] }]``)."""
        path = ("when", key)
        if isinstance(raw, list) and raw and all(isinstance(t, dict) for t in raw):
            return [cond for table in raw for cond in self.text_conditions(key, table, where)]
        if isinstance(raw, list):
            return [c.TextCondition(key=key, any=self.terms(raw, where, path))]
        if not isinstance(raw, dict):
            self.error(
                f"when.{key} must be a list of terms, a table of any / all / none, or a list "
                "of such tables",
                **where,
                path=path,
            )
            return []
        self.unknown_keys(raw, {"any", "all", "none"}, where, path)
        parts = {
            k: self.terms(raw[k], where, (*path, k)) for k in ("any", "all", "none") if k in raw
        }
        return [c.TextCondition(key=key, **parts)]

    def countries(self, raw, where, path) -> frozenset[str]:
        if not isinstance(raw, list) or not all(
            isinstance(v, str) and COUNTRY_RE.match(v) for v in raw
        ):
            self.error(
                f'{".".join(path)} must be a list of ISO 3166 alpha-2 codes such as "CN"',
                **where,
                path=path,
            )
            return frozenset()
        return frozenset(raw)

    def decimal(self, raw, where, path) -> Decimal | None:
        try:
            if isinstance(raw, bool):
                raise InvalidOperation
            value = Decimal(str(raw))
            if not value.is_finite():
                raise InvalidOperation
            return value
        except InvalidOperation:
            self.error(f"{'.'.join(path)} {raw!r} is not a number", **where, path=path)
            return None

    def conditions(self, raw, where, *, allow_codes=False) -> c.Conditions:
        if not isinstance(raw, dict):
            self.error("when must be a table of conditions", **where, path=("when",))
            return c.Conditions()
        allowed = set(c.TEXT_FACTS) | {"origin", "value"} | ({"codes"} if allow_codes else set())
        self.unknown_keys(raw, allowed, where, ("when",))
        text = tuple(
            cond
            for key in c.TEXT_FACTS
            if key in raw
            for cond in self.text_conditions(key, raw[key], where)
        )
        fields: dict = {"text": text}
        origin = raw.get("origin")
        if origin is not None:
            if isinstance(origin, list):
                origin = {"any": origin}
            if isinstance(origin, dict):
                self.unknown_keys(origin, {"any", "none"}, where, ("when", "origin"))
                if "any" in origin:
                    fields["origin_any"] = self.countries(origin["any"], where, ("origin", "any"))
                if "none" in origin:
                    fields["origin_none"] = self.countries(
                        origin["none"], where, ("origin", "none")
                    )
            else:
                self.error(
                    "when.origin must be a list or a table of any / none",
                    **where,
                    path=("when", "origin"),
                )
        value = raw.get("value")
        if value is not None:
            fields.update(self.value_condition(value, where))
        if allow_codes and "codes" in raw:
            codes = raw["codes"]
            digits = (
                [re.sub(r"[.\s]", "", v) if isinstance(v, str) else v for v in codes]
                if (isinstance(codes, list))
                else None
            )
            if digits is None or not all(isinstance(d, str) and CODE_RE.match(d) for d in digits):
                self.error(
                    "when.codes must be a list of code prefixes of 2 to 10 digits",
                    **where,
                    path=("when", "codes"),
                )
            else:
                fields["codes"] = tuple(digits)
        return c.Conditions(**fields)

    def value_condition(self, value, where) -> dict:
        if not isinstance(value, dict):
            self.error(
                "when.value must be a table with min, max and currency",
                **where,
                path=("when", "value"),
            )
            return {}
        self.unknown_keys(value, {"min", "max", "currency"}, where, ("when", "value"))
        out: dict = {}
        for bound in ("min", "max"):
            if bound in value:
                out[f"value_{bound}"] = self.decimal(value[bound], where, ("value", bound))
        currency = value.get("currency")
        if not (isinstance(currency, str) and re.match(r"^[A-Z]{3}$", currency)):
            self.error(
                'when.value.currency must be an ISO 4217 code such as "USD"',
                **where,
                path=("when", "value", "currency"),
            )
        else:
            out["value_currency"] = currency
        lo, hi = out.get("value_min"), out.get("value_max")
        if lo is not None and hi is not None and lo > hi:
            self.error(f"when.value min {lo} is above max {hi}", **where, path=("when", "value"))
        return out

    # -- entries -----------------------------------------------------------------------------

    def entries(self, data, section):
        raw = data.get(section, [])
        noun, allowed = _ENTRY_KEYS[section]
        if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
            self.error(
                f"{section} must be an array of tables ([[{section}]])",
                path=(section,),
                section=None,
            )
            return
        for index, entry in enumerate(raw):
            ident = entry.get("id")
            label = f'{noun} "{ident}"' if isinstance(ident, str) else f"{noun} #{index + 1}"
            where = {"section": section, "index": index, "entry": label}
            self.unknown_keys(entry, allowed, where)
            if isinstance(ident, str) and not ID_RE.match(ident):
                self.error(
                    "id must be 1-64 lower-case letters, digits, '.', '_' or '-'",
                    **where,
                    path=("id",),
                )
            yield index, entry, where

    def code(self, entry, where, *, key="code", allow_empty=False) -> str:
        raw = self.string(entry, key, where)
        digits = re.sub(r"[.\s]", "", raw)
        if digits == "":
            if not allow_empty and key in entry:
                self.error(f"{key} is empty", **where, path=(key,))
            return ""
        if raw and not CODE_RE.match(digits):
            self.error(f"{key} {raw!r} must be 2 to 10 digits (dots allowed)", **where, path=(key,))
        return digits

    def rule(self, index, entry, where) -> c.Rule:
        confidence = (
            self.number(entry, "confidence", where, None) if "confidence" in entry else (None)
        )
        if "confidence" not in entry:
            self.error("confidence is missing", **where, path=("confidence",))
        elif confidence is not None and confidence > 1:
            self.error(f"confidence {_num(confidence)} is above 1", **where, path=("confidence",))
        elif confidence is not None and confidence <= 0:
            self.error(
                f"confidence {_num(confidence)} must be above 0", **where, path=("confidence",)
            )
        return c.Rule(
            id=self.string(entry, "id", where),
            code=self.code(entry, where),
            confidence=confidence or 0.0,
            risk=self.choice(entry, "risk", c.RISK_BANDS, where),
            rationale=self.string(entry, "rationale", where),
            when=self.conditions(entry.get("when", {}), where),
            line=self.lines.entry("rules", index),
        )

    def restriction(self, index, entry, where) -> c.Restriction:
        return c.Restriction(
            id=self.string(entry, "id", where),
            action=self.choice(entry, "action", c.RESTRICTION_ACTIONS, where),
            risk=self.choice(entry, "risk", c.RISK_BANDS, where),
            reason=self.string(entry, "reason", where),
            when=self.conditions(entry.get("when", {}), where, allow_codes=True),
            line=self.lines.entry("restrictions", index),
        )

    def denied(self, index, entry, where) -> c.DeniedGood:
        return c.DeniedGood(
            id=self.string(entry, "id", where),
            reason=self.string(entry, "reason", where),
            when=self.conditions(entry.get("when", {}), where, allow_codes=True),
            line=self.lines.entry("denied", index),
        )

    def golden(self, index, entry, where, jurisdiction) -> c.GoldenCase:
        facts = entry.get("facts")
        if not isinstance(facts, dict):
            self.error("facts must be a table of product facts", **where, path=("facts",))
            facts = {}
        return c.GoldenCase(
            id=self.string(entry, "id", where),
            facts=MappingProxyType(self.facts(facts, where, jurisdiction, entry.get("id"))),
            expect_code=self.code(entry, where, allow_empty=True),
            expect_outcome=self.choice(entry, "outcome", c.OUTCOMES, where),
            line=self.lines.entry("golden", index),
        )

    def facts(self, raw, where, jurisdiction, ident) -> dict:
        self.unknown_keys(raw, FACT_KEYS, where, ("facts",))
        return complete_facts(
            raw,
            jurisdiction=jurisdiction,
            sku=ident,
            on_error=lambda m, k: self.error(m, **where, path=("facts", k)),
        )

    # -- the whole pack ----------------------------------------------------------------------

    def run(self) -> ParseResult:
        try:
            data = tomllib.loads(self.source)
        except tomllib.TOMLDecodeError as err:
            pos = _SYNTAX_POS.search(str(err))
            message = _SYNTAX_POS.sub("", str(err)).strip()
            line = int(pos.group(1)) if pos else None
            column = f", column {pos.group(2)}" if pos else ""
            problem = Problem(f"TOML syntax error{column}: {message}", line=line)
            return ParseResult(pack=None, problems=[problem], syntax_ok=False)
        top = {"section": None, "index": 0, "entry": ""}
        self.unknown_keys(data, _TOP_KEYS, top)
        head = data.get("pack")
        if not isinstance(head, dict):
            self.error(
                "the [pack] table is missing (name, jurisdiction, version)", **top, path=("pack",)
            )
            head = {}
        where = {"section": None, "index": 0, "entry": "[pack]"}
        self.unknown_keys(head, {"name", "jurisdiction", "version", "description"}, where)
        jurisdiction = self.choice(head, "jurisdiction", self.jurisdictions, where)
        thresholds = self.thresholds(data.get("thresholds", {}))
        routing = data.get("routing", {})
        high_risk = frozenset()
        agency_review = "required"
        lifecycle = {}
        if isinstance(routing, dict):
            where_r = {"section": None, "index": 0, "entry": "[routing]"}
            self.unknown_keys(routing, _ROUTING_KEYS, where_r)
            if "high_risk_origins" in routing:
                high_risk = self.countries(
                    routing["high_risk_origins"], where_r, ("high_risk_origins",)
                )
            agency_review = self.choice(
                routing, "agency_review", c.AGENCY_REVIEW_POLICIES, where_r, "required"
            )
            lifecycle = self.lifecycle(routing, where_r)
        pack = c.CompiledPack(
            name=self.string(head, "name", where),
            jurisdiction=jurisdiction,
            version=self.string(head, "version", where),
            description=self.string(head, "description", where, required=False),
            thresholds=thresholds,
            rules=tuple(self.rule(*e) for e in self.entries(data, "rules")),
            restrictions=tuple(self.restriction(*e) for e in self.entries(data, "restrictions")),
            denied=tuple(self.denied(*e) for e in self.entries(data, "denied")),
            golden=tuple(self.golden(*e, jurisdiction) for e in self.entries(data, "golden")),
            denied_declared="denied" in data,
            high_risk_origins=high_risk,
            agency_review=agency_review,
            **lifecycle,
            monitoring=self.monitoring(data.get("monitoring", {})),
            synonyms=self.synonyms(data.get("synonyms", {})),
            sha256=hashlib.sha256(self.source.encode()).hexdigest(),
            source_bytes=len(self.source.encode()),
            line_of=MappingProxyType(
                {k: self.lines.key(None, 0, (k,)) for k in ("jurisdiction", *_THRESHOLD_KEYS)}
            ),
        )
        return ParseResult(pack=pack, problems=self.problems)

    def lifecycle(self, routing: dict, where) -> dict:
        """``auto_finalize`` and ``four_eyes`` (true/false), ``spot_check`` (a share, 0 to 1)."""
        out = {
            key: self.boolean(routing, key, where, False) for key in ("auto_finalize", "four_eyes")
        }
        share = self.number(routing, "spot_check", where, c.DEFAULT_SPOT_CHECK)
        if not 0 <= share <= 1:
            self.error(
                f"spot_check {share:g} is not a share between 0 and 1 (0.05 checks one in twenty)",
                **where,
                path=("spot_check",),
            )
            share = c.DEFAULT_SPOT_CHECK
        out["spot_check"] = share
        return out

    def monitoring(self, raw) -> c.Monitoring:
        """``[monitoring]``: drift thresholds; shares between 0 and 1, ``min_decisions`` ≥ 1."""
        where = {"section": None, "index": 0, "entry": "[monitoring]"}
        if not isinstance(raw, dict):
            self.error("monitoring must be a table", **where, path=("monitoring",))
            return c.Monitoring()
        self.unknown_keys(raw, {f.name for f in fields(c.Monitoring)}, where)
        default = c.Monitoring()
        out = {}
        for key in ("rule_override_rate", "review_rate_margin", "automation_precision_target"):
            if key not in raw and getattr(default, key) is None:
                continue
            share = self.number(raw, key, where, getattr(default, key))
            if not 0 <= share <= 1:
                self.monitoring_error(key, f"{key} {share:g} is not a share between 0 and 1")
                share = getattr(default, key)
            out[key] = share
        count = raw.get("min_decisions", default.min_decisions)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            self.monitoring_error(
                "min_decisions",
                f"min_decisions must be a whole number of at least 1, not {count!r}",
            )
            count = default.min_decisions
        out["min_decisions"] = count
        return c.Monitoring(**out)

    def monitoring_error(self, key: str, message: str) -> None:
        line = self.lines.table_key("monitoring", key)
        self.problems.append(
            Problem(f"[monitoring]: {message}", line=line, entry="[monitoring]", key=key)
        )

    def synonyms(self, raw) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """``[synonyms]``: the tenant's everyday terms → code prefixes ("hoodie" = "6110")."""
        where = {"section": None, "index": 0, "entry": "[synonyms]"}
        if not isinstance(raw, dict):
            self.error("synonyms must be a table of term = code(s)", **where, path=("synonyms",))
            return ()
        out = []
        for term, value in raw.items():
            values = value if isinstance(value, list) else [value]
            digits = [re.sub(r"[\s.]", "", v) for v in values if isinstance(v, str)]
            if not term.strip() or not values or len(digits) != len(values):
                self.synonym_error(term, f"synonym {term!r} must name a code or a list of codes")
                continue
            bad = [v for v, d in zip(values, digits, strict=True) if not _SYNONYM_CODE.match(d)]
            if bad:
                self.synonym_error(
                    term, f"synonym {term!r}: {bad[0]!r} is not a code of 2, 4, 6, 8 or 10 digits"
                )
                continue
            out.append((term.strip(), tuple(dict.fromkeys(digits))))
        return tuple(out)

    def synonym_error(self, term: str, message: str) -> None:
        line = self.lines.table_key("synonyms", term)
        self.problems.append(
            Problem(f"[synonyms]: {message}", line=line, entry="[synonyms]", key=f"synonyms.{term}")
        )

    def thresholds(self, raw) -> c.Thresholds:
        where = {"section": None, "index": 0, "entry": "[thresholds]"}
        if not isinstance(raw, dict):
            self.error("thresholds must be a table", **where, path=("thresholds",))
            return c.Thresholds()
        self.unknown_keys(raw, {"min_confidence", "tie_margin"}, where)
        return c.Thresholds(
            min_confidence=self.number(raw, "min_confidence", where, c.DEFAULT_MIN_CONFIDENCE),
            tie_margin=self.number(raw, "tie_margin", where, c.DEFAULT_TIE_MARGIN),
        )


def _num(value: float) -> str:
    return f"{value:g}"


def complete_facts(raw, *, jurisdiction, sku=None, on_error=None) -> dict:
    """Return catalog-shaped facts from a partial mapping (cases, golden cases, uploads).

    Every fact key is present (absent ones ``None``), materials is a list of strings, decimals
    are strings, the destination defaults to the pack's jurisdiction and the SKU to the case id.
    """
    report = on_error or (lambda message, key: None)
    facts: dict = dict.fromkeys(FACT_KEYS)
    for key, value in raw.items():
        if key not in FACT_KEYS or value is None or value == "":
            continue
        if key == "materials":
            if isinstance(value, str):
                value = [m.strip() for m in re.split(r"[;,]", value) if m.strip()]
            if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
                report("facts.materials must be a list of text", key)
                continue
            facts[key] = [m.strip() for m in value if m.strip()]
        elif key in ("customs_value", "quantity", "net_weight_kg"):
            try:
                facts[key] = str(Decimal(str(value)))
            except InvalidOperation:
                report(f"facts.{key} {value!r} is not a number", key)
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            text = str(value).strip()
            if key in ("country_of_origin", "destination", "currency"):
                text = text.upper()
            facts[key] = text
        else:
            report(f"facts.{key} must be text", key)
    if facts["destination"] is None:
        facts["destination"] = jurisdiction
    if facts["sku"] is None and sku:
        facts["sku"] = str(sku)
    return facts


def parse(source: str, *, jurisdictions: tuple[str, ...] = JURISDICTIONS) -> ParseResult:
    """Parse and compile a pack; ``problems`` lists every syntax or schema error found."""
    return _Parser(source, jurisdictions).run()
