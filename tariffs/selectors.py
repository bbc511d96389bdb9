"""Reads of tariff reference data: current revisions, search, browse, revision diffs, lexicon."""

import json
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet, TextField
from django.db.models.functions import Cast

from tariffs import codes, lexicon, rates
from tariffs import reference as ref_module
from tariffs.models import (
    HS_JURISDICTION,
    SEARCH_CONFIG,
    Lexicon,
    LexiconEntry,
    ReferenceList,
    TariffLine,
    TariffSchedule,
)


def current_schedule(jurisdiction: str) -> TariffSchedule | None:
    """Return the jurisdiction's newest schedule by effective date (only committed loads exist)."""
    return (
        TariffSchedule.objects.filter(jurisdiction=jurisdiction.upper())
        .order_by("-effective_date", "-id")
        .first()
    )


def schedule_by_revision(jurisdiction: str, revision: str) -> TariffSchedule | None:
    """Return one named revision of a jurisdiction's schedule, or None."""
    return TariffSchedule.objects.filter(
        jurisdiction=jurisdiction.upper(), revision=revision
    ).first()


def schedules() -> QuerySet[TariffSchedule]:
    """Return every loaded schedule, newest first per jurisdiction, with the loader."""
    return TariffSchedule.objects.select_related("loaded_by").order_by(
        "jurisdiction", "-effective_date", "-id"
    )


def current_lists(jurisdiction: str = "US") -> dict[str, ReferenceList]:
    """Return the newest loaded list of each kind (PGA, Section 301, Section 232)."""
    out: dict[str, ReferenceList] = {}
    for item in ReferenceList.objects.filter(jurisdiction=jurisdiction).order_by(
        "kind", "-loaded_at", "-id"
    ):
        out.setdefault(item.kind, item)
    return out


def reference_key(jurisdiction: str, revision: str | None) -> tuple | None:
    """Return the cache key of the reference to build: schedule and list ids, or None."""
    schedule = (
        schedule_by_revision(jurisdiction, revision) if revision else current_schedule(jurisdiction)
    )
    if schedule is None and revision:
        return None
    hs = current_schedule(HS_JURISDICTION)
    if schedule is None and hs is None:
        return None
    lists = current_lists(jurisdiction) if schedule is not None else {}
    return (
        jurisdiction,
        schedule.pk if schedule else None,
        hs.pk if hs else None,
        tuple(sorted((kind, item.pk) for kind, item in lists.items())),
    )


def _json_tuples():
    """Return a function from a JSON list's text to its tuple, decoding each distinct text once.

    Tens of thousands of schedule lines and agency flags share a few dozen unit and flag lists;
    the JSON field's decoding of every row was most of a worker's time reading a schedule.
    """
    decoded: dict[str, tuple] = {}

    def decode(text: str) -> tuple:
        found = decoded.get(text)
        if found is None:
            found = decoded[text] = tuple(json.loads(text))
        return found

    return decode


def _lines(schedule_id: int) -> list[ref_module.Line]:
    fields = ["units_json" if name == "units" else name for name in ref_module.LINE_FIELDS]
    rows = (
        TariffLine.objects.filter(schedule_id=schedule_id)
        .annotate(units_json=Cast("units", TextField()))  # decoded below, once per distinct list
        .order_by("position")
        .values_list(*fields)
    )
    u = ref_module.LINE_FIELDS.index("units")
    decode = _json_tuples()
    return [
        ref_module.Line(*row[:u], decode(row[u]), *row[u + 1 :])
        for row in rows.iterator(chunk_size=5000)
    ]


def _hs_descriptions(hs_id: int) -> dict[str, str]:
    """Return the HS subheadings' (six digits) full descriptions, the text a national line adds."""
    rows = (
        TariffLine.objects.filter(schedule_id=hs_id, code__regex=r"^\d{6}$")
        .order_by("position")
        .values_list("code", "full_description")
    )
    return dict(rows.iterator(chunk_size=5000))


def reference_data(key: tuple) -> ref_module.ReferenceData:
    """Load the plain data behind a ``Reference`` for a key from ``reference_key``."""
    jurisdiction, schedule_id, hs_id, list_ids = key
    if schedule_id is None:
        hs = TariffSchedule.objects.get(pk=hs_id)
        hs_lines = _lines(hs_id)
        return ref_module.ReferenceData(
            jurisdiction=jurisdiction,
            revision=hs.revision,
            schedule_id=None,
            national=False,
            has_rates=False,
            lines=hs_lines,
            hs_descriptions={
                line.code: line.full_description for line in hs_lines if len(line.code) == 6
            },
            sha256=hs.source_sha256,
        )
    schedule = TariffSchedule.objects.get(pk=schedule_id)
    data = ref_module.ReferenceData(
        jurisdiction=jurisdiction,
        revision=schedule.revision,
        schedule_id=schedule.pk,
        national=schedule.jurisdiction != HS_JURISDICTION,
        has_rates=schedule.has_rates,
        lines=_lines(schedule_id),
        # A national reference needs only the HS subheadings' texts, not their Line objects.
        hs_descriptions=_hs_descriptions(hs_id) if hs_id else {},
        sha256=schedule.source_sha256,
    )
    for kind, list_id in list_ids:
        item = ReferenceList.objects.get(pk=list_id)
        data.sources[kind] = f"{item.get_kind_display()}: {item.source_name}"
        if kind == ReferenceList.Kind.PGA:
            flags = item.flags.annotate(pga_json=Cast("pga", TextField())).values_list(
                "code", "pga_json", "antidumping", "countervailing"
            )
            decode = _json_tuples()
            for code, pga, ad, cv in flags.iterator(chunk_size=5000):
                data.pga[code] = (decode(pga), ad, cv)
        else:
            program = "Section 301" if kind == ReferenceList.Kind.SECTION301 else "Section 232"
            for prefix, list_name, heading, metal in item.measures.values_list(
                "prefix", "list_name", "heading", "metal"
            ):
                data.measures.append(ref_module.Measure(program, list_name, heading, prefix, metal))
    return data


# --- web search and browse ------------------------------------------------------------------


def search_lines(schedule: TariffSchedule, query: str, *, limit: int = 50) -> list[TariffLine]:
    """Search a schedule's lines by code prefix or words (PostgreSQL full-text), best first."""
    text = (query or "").strip()
    if not text:
        return []
    digits = codes.normalise(text).digits or text.replace(".", "").replace(" ", "")
    base = TariffLine.objects.filter(schedule=schedule)
    if digits.isdigit():
        # A range on the btree (schedule, code) index finds the prefix without LIKE.
        return list(base.filter(code__gte=digits, code__lt=digits + ":").order_by("code")[:limit])
    vector = SearchVector("full_description", config=SEARCH_CONFIG)
    search = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
    special = Q(code__startswith="98") | Q(code__startswith="99")
    return list(
        base.annotate(document=vector)
        .filter(document=search)
        .annotate(
            rank=SearchRank(vector, search),
            special=ExpressionWrapper(special, output_field=BooleanField()),
        )
        # What goods are first; chapter 98/99 provisions (also declarable) after them.
        .order_by("-declarable", "special", "-rank", "code")[:limit]
    )


def children(schedule: TariffSchedule, code: str) -> list[TariffLine]:
    """Return the lines directly below ``code`` (or the top level when empty), in file order."""
    base = TariffLine.objects.filter(schedule=schedule)
    if code:
        base = base.filter(code__gt=code, code__lt=code + ":")
    lines = list(
        base.order_by("code").only(
            "code", "indent", "description", "general_text", "declarable", "full_description"
        )
    )
    found = {line.code for line in lines}
    return [
        line
        for line in lines
        if not any(line.code[:n] in found for n in range(len(code) + 1, len(line.code)))
    ]


def hs_chapters() -> list[TariffLine]:
    """Return the HS 2022 chapters (two-digit lines of the nomenclature)."""
    hs = current_schedule(HS_JURISDICTION)
    if hs is None:
        return []
    return list(TariffLine.objects.filter(schedule=hs, code__regex=r"^\d{2}$").order_by("code"))


def line_path(schedule: TariffSchedule, code: str) -> list[TariffLine]:
    """Return the ancestors of ``code`` present in the schedule, chapter first."""
    return list(
        TariffLine.objects.filter(schedule=schedule, code__in=codes.ancestors(code)).order_by(
            "code"
        )
    )


# --- revision diff --------------------------------------------------------------------------


@dataclass
class RevisionDiff:
    jurisdiction: str
    from_revision: str
    to_revision: str
    added: list[tuple[str, str]] = field(default_factory=list)  # (code, description)
    removed: list[tuple[str, str]] = field(default_factory=list)
    split: list[tuple[str, list[str]]] = field(default_factory=list)  # old code -> new codes
    rerated: list[tuple[str, str, str]] = field(default_factory=list)  # code, old, new general rate

    @property
    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "removed": len(self.removed),
            "split": len(self.split),
            "re-rated": len(self.rerated),
        }


def _rate_key(text: str) -> tuple:
    rate = rates.parse(text)
    return (
        (rate.kind, rate.ad_valorem, rate.specific)
        if rate.readable
        else (rate.kind, " ".join(text.split()))
    )


def diff_lines(old: dict[str, tuple], new: dict[str, tuple]) -> tuple[list, list, list, list]:
    """Compare ``{code: (full_description, general_text)}`` maps of declarable lines. Pure.

    A removed code is *split* when codes were added under its 8-digit (or, for an 8-digit code,
    6-digit) parent; the removed list keeps only codes with no such successor.
    """
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    split, gone = [], []
    for code in removed:
        parent = code[:8] if len(code) == 10 else code[:6]
        successors = [c for c in added if c.startswith(parent)]
        (split.append((code, successors)) if successors else gone.append((code, old[code][0])))
    rerated = [
        (code, old[code][1], new[code][1])
        for code in sorted(set(old) & set(new))
        if _rate_key(old[code][1]) != _rate_key(new[code][1])
    ]
    return [(c, new[c][0]) for c in added], gone, split, rerated


def schedule_diff(jurisdiction: str, from_revision: str, to_revision: str) -> RevisionDiff | None:
    """Return codes added, removed, split and re-rated between two revisions, or None."""
    old = schedule_by_revision(jurisdiction, from_revision)
    new = schedule_by_revision(jurisdiction, to_revision)
    if old is None or new is None:
        return None

    def declarable(schedule):
        rows = TariffLine.objects.filter(schedule=schedule, declarable=True).values_list(
            "code", "full_description", "general_text"
        )
        return {code: (desc, rate) for code, desc, rate in rows.iterator(chunk_size=5000)}

    added, removed, split, rerated = diff_lines(declarable(old), declarable(new))
    return RevisionDiff(
        jurisdiction.upper(), from_revision, to_revision, added, removed, split, rerated
    )


# --- lexicon of everyday terms ----------------------------------------------------------------


def current_lexicon() -> Lexicon | None:
    """Return the newest loaded lexicon (only committed loads exist), with its loader."""
    return Lexicon.objects.select_related("loaded_by").order_by("-loaded_at", "-id").first()


def current_lexicon_id() -> int | None:
    """Return the id of the newest loaded lexicon, or None (one small indexed query)."""
    return Lexicon.objects.order_by("-loaded_at", "-id").values_list("id", flat=True).first()


def lexicon_entries(lexicon_id: int) -> list[lexicon.Entry]:
    """Return a lexicon's entries as plain ``lexicon.Entry`` data, in file order."""
    rows = (
        LexiconEntry.objects.filter(lexicon_id=lexicon_id)
        .order_by("position")
        .values_list("term", "codes", "message", "too_generic", "correction")
    )
    return [
        lexicon.Entry(term, tuple(c["code"] for c in codes), message, too_generic, correction)
        for term, codes, message, too_generic, correction in rows
    ]
