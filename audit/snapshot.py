"""Building the frozen snapshot of an audit export, and reading it back.

The snapshot is one JSON document, written as canonical JSON (``audit.canonical``) so that its
SHA-256 is reproducible byte for byte::

    {"audit_events": [...], "chain": {"head_seq", "head_hash"}, "export": {...},
     "format": "customs-workbench/audit-export", "format_version": 1, "scope": {...},
     "sections": {"classification": {...}, ...}, "tenant": {"id", "slug", "name"}}

Apps contribute ``sections`` through the ``audit_export_sections(tenant, scope) ->
{section_name: data}`` extension point, so ``audit`` imports none of them. ``data`` is JSON-safe;
a value reached through dictionaries only may be an iterator instead of a list (streamed, one
item at a time), and a section may name the objects it covers under the reserved key
``"audit_targets"`` (``[[target_type, target_id], ...]``), which selects the audit events that
go into a scoped export and is not itself written.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.utils import timezone

from audit import canonical
from audit.models import AuditEvent
from workbench import extension_points

FORMAT = "customs-workbench/audit-export"
FORMAT_VERSION = 1
TARGETS_KEY = "audit_targets"
OUTCOMES = ("classified", "needs_review", "blocked")
EVENT_FIELDS = [
    "seq",
    "created_at",
    "actor_label",
    "verb",
    "target_type",
    "target_id",
    "target_label",
    "data",
    "prev_hash",
    "hash",
]


def scope_bounds(scope: dict) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Return the scope's ``[start, end)`` datetimes (whole days, tenant time zone) or None."""
    tz = timezone.get_current_timezone()

    def at_midnight(value: str | None, days: int = 0):
        if not value:
            return None
        day = dt.date.fromisoformat(value) + dt.timedelta(days=days)
        return dt.datetime.combine(day, dt.time.min, tzinfo=tz)

    return at_midnight(scope.get("from")), at_midnight(scope.get("to"), days=1)


def is_scoped(scope: dict) -> bool:
    """Return whether the scope narrows the export to some objects (not only a date range)."""
    return bool(scope.get("jurisdiction") or scope.get("outcome") or scope.get("skus"))


def collect_sections(tenant, scope: dict) -> tuple[dict, set[tuple[str, str]]]:
    """Ask every app for its export sections; return them and the audit targets they name."""
    sections: dict = {}
    targets: set[tuple[str, str]] = set()
    for answer in extension_points.collect("audit_export_sections", tenant, scope):
        for name, data in (answer or {}).items():
            if name in sections:
                raise ValueError(f"two apps contribute the export section {name!r}")
            if isinstance(data, dict) and TARGETS_KEY in data:
                data = dict(data)
                targets.update((str(t), str(i)) for t, i in data.pop(TARGETS_KEY))
            sections[name] = data
    return sections, targets


def _events(tenant, scope: dict, targets: set, head_seq: int) -> Iterator[dict]:
    start, end = scope_bounds(scope)
    events = AuditEvent.objects.filter(tenant=tenant, seq__lte=head_seq)
    if start:
        events = events.filter(created_at__gte=start)
    if end:
        events = events.filter(created_at__lt=end)
    scoped = is_scoped(scope)
    for row in events.order_by("seq").values(*EVENT_FIELDS).iterator(chunk_size=5000):
        if scoped and (row["target_type"], row["target_id"]) not in targets:
            continue
        yield row


class _Counted:
    """An iterator that counts the items it hands out (for the export's summary)."""

    def __init__(self, iterable):
        self._it = iter(iterable)
        self.count = 0

    def __iter__(self):
        return self

    def __next__(self):
        item = next(self._it)
        self.count += 1
        return item


def _count_lists(sections: dict) -> tuple[dict, list]:
    """Wrap every list or iterator one level inside each section with a counter."""
    counters = []
    for name, data in sections.items():
        if not isinstance(data, dict):
            continue
        for key, value in list(data.items()):
            if isinstance(value, list | tuple) or hasattr(value, "__next__"):
                counter = _Counted(value)
                data[key] = counter
                counters.append((name, key, counter))
    return sections, counters


@dataclass
class Built:
    sha256: str
    size: int
    summary: dict = field(default_factory=dict)


def build(
    export,
    sink: Callable[[bytes], None],
    progress: Callable[[int, str], None] = lambda pct, note: None,
) -> Built:
    """Write the snapshot of ``export`` as canonical JSON bytes to ``sink``; return its digest.

    The caller runs this inside one REPEATABLE READ transaction, so the sections, the events and
    the chain head describe the same moment.
    """
    tenant, scope = export.tenant, export.scope
    head = AuditEvent.objects.filter(tenant=tenant).order_by("-seq").values("seq", "hash").first()
    head = head or {"seq": 0, "hash": "0" * 64}
    progress(10, "Collecting sections")
    sections, targets = collect_sections(tenant, scope)
    sections = {
        name: (data if not isinstance(data, dict) else dict(data))
        for name, data in sections.items()
    }
    sections, counters = _count_lists(sections)
    events = _Counted(_events(tenant, scope, targets, head["seq"]))
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tenant": {"id": tenant.pk, "slug": tenant.slug, "name": tenant.name},
        "export": {
            "id": export.pk,
            "requested_by": export.requested_by_label,
            "requested_at": export.created_at,
            "generated_at": timezone.now(),
        },
        "scope": scope,
        "chain": {"head_seq": head["seq"], "head_hash": head["hash"]},
        "audit_events": events,
        "sections": sections,
    }
    hasher, size = hashlib.sha256(), 0
    buffer: list[str] = []
    buffered = 0

    def flush():
        nonlocal size, buffered
        data = "".join(buffer).encode("utf-8")
        buffer.clear()
        buffered = 0
        hasher.update(data)
        size += len(data)
        sink(data)

    def write(text: str):
        nonlocal buffered
        buffer.append(text)
        buffered += len(text)
        if buffered >= 1 << 20:
            flush()
            progress(min(90, 20 + size // (1 << 20)), f"{size // (1 << 20)} MB written")

    canonical.write(document, write)
    flush()
    summary = {"audit_events": events.count}
    for name, key, counter in counters:
        summary[f"{name}.{key}"] = counter.count
    return Built(sha256=hasher.hexdigest(), size=size, summary=summary)


class NotAnExport(ValueError):
    """A file given to verify is not an audit export snapshot; the message says why."""


def read_export_file(data: bytes) -> dict:
    """Return the snapshot document of an export file's bytes, checked to be one.

    Raises ``NotAnExport`` naming what is wrong: not UTF-8, not JSON (with the position), not
    this product's export format, or no export id.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise NotAnExport(
            f"The file is not UTF-8 text (byte {err.start}), so it is not an audit export JSON."
        ) from None
    try:
        document = json.loads(text)
    except ValueError as err:
        raise NotAnExport(f"The file is not JSON: {err}.") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise NotAnExport(f'The file is JSON but not an audit export ("format": "{FORMAT}").')
    if export_id(document) is None:
        raise NotAnExport("The file names no export id ($.export.id).")
    return document


def export_id(document: dict) -> int | None:
    """Return the export id a snapshot document names, or None."""
    value = (document.get("export") or {}).get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Difference:
    """One place where a file differs from the recorded snapshot; values as canonical JSON."""

    path: str
    recorded: str
    found: str

    def __str__(self) -> str:
        return f"{self.path}: export has {self.recorded}, file has {self.found}"


MISSING = "(absent)"


def differences(stored, found, *, limit: int = 10, width: int = 80) -> list[Difference]:
    """Return up to ``limit`` JSON paths (``$.sections.x[3].y``) where ``found`` differs."""
    out: list[Difference] = []

    def text(value) -> str:
        return canonical.dumps(value)[:width]

    def walk(a, b, where):
        if len(out) >= limit:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                if key not in b:
                    out.append(Difference(f"{where}.{key}", text(a[key]), MISSING))
                elif key not in a:
                    out.append(Difference(f"{where}.{key}", MISSING, text(b[key])))
                else:
                    walk(a[key], b[key], f"{where}.{key}")
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                out.append(Difference(where, f"{len(a)} items", f"{len(b)} items"))
            for i, (x, y) in enumerate(zip(a, b, strict=False)):
                walk(x, y, f"{where}[{i}]")
        elif a != b or type(a) is not type(b):
            out.append(Difference(where, text(a), text(b)))

    walk(stored, found, "$")
    return out[:limit]


def digest(data: bytes) -> str:
    """Return the SHA-256 hex digest of snapshot bytes."""
    return hashlib.sha256(data).hexdigest()


def parse(data: bytes) -> dict:
    """Return the snapshot document of canonical JSON bytes."""
    return json.loads(data)


_decoder = json.JSONDecoder()


class LazyArray:
    """A JSON array inside canonical snapshot text, decoded one item at a time per iteration.

    Rendering 50,000 decisions this way keeps one decision in memory instead of all of them.
    """

    def __init__(self, text: str, start: int):
        self.text, self.start = text, start  # text[start] == "["
        self.count, self.end = 0, start + 1
        for _item in self._items():
            self.count += 1

    def _items(self):
        text, pos = self.text, self.start + 1
        if text[pos] == "]":
            self.end = pos + 1
            return
        while True:
            item, pos = _decoder.raw_decode(text, pos)
            yield item
            pos += 1
            if text[pos - 1] == "]":
                self.end = pos
                return

    def __iter__(self):
        return self._items()

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return self.count > 0

    def __getitem__(self, index: int):
        if not 0 <= index < self.count:
            raise IndexError(index)
        for i, item in enumerate(self):
            if i == index:
                return item
        raise IndexError(index)  # pragma: no cover


def _lazy_at(path: tuple) -> bool:
    return path == ("audit_events",) or (len(path) == 3 and path[0] == "sections")


def _object(text: str, pos: int, path: tuple) -> tuple[dict, int]:
    out: dict = {}
    pos += 1
    if text[pos] == "}":
        return out, pos + 1
    while True:
        key, pos = _decoder.raw_decode(text, pos)
        pos += 1  # the ":" (canonical JSON has no whitespace)
        here = (*path, key)
        if text[pos] == "[" and _lazy_at(here):
            value = LazyArray(text, pos)
            pos = value.end
        elif text[pos] == "{" and len(here) < 3:
            value, pos = _object(text, pos, here)
        else:
            value, pos = _decoder.raw_decode(text, pos)
        out[key] = value
        pos += 1
        if text[pos - 1] == "}":
            return out, pos


def open_lazily(data: bytes) -> dict:
    """Return the snapshot document of canonical JSON bytes, with its big lists lazy.

    ``audit_events`` and each list directly inside a section (``decisions``…) are ``LazyArray``s:
    iterable any number of times, with ``len``; everything else is plain JSON data.
    """
    document, _end = _object(data.decode("utf-8"), 0, ())
    return document
