"""Integration test helpers: decisions to finalize, an API client checked against the OpenAPI
document, and a real HTTP receiver on loopback that verifies webhook signatures."""

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.test import Client
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from audit import outbox
from catalog import services as catalog_services
from classification.models import ClassificationRequest, Decision, Job
from classification.review import states as review_states
from integrations import services, signing
from workbench.roles import Role


def product_raw(sku: str, **over) -> dict:
    raw = {
        "sku": sku,
        "name": f"Cotton T-shirt {sku}",
        "description": "Men's knitted cotton T-shirt, short sleeves",
        "country_of_origin": "BD",
        "materials": ["cotton", "elastane"],
        "intended_use": "Casual wear",
        "product_type": "T-shirt",
        "destination": "US",
        "customs_value": "4.80",
        "currency": "USD",
    }
    raw.update(over)
    return raw


def make_decision(tenant, sku: str, *, outcome="needs_review", code="6109100012") -> Decision:
    """Write a product, a request, a job and the engine's decision the way the runner does."""
    raw = dict(product_raw(sku), materials="cotton; elastane")
    product, _ = catalog_services.product_upsert(actor=None, tenant=tenant, raw=raw)
    request = ClassificationRequest.objects.create(
        tenant=tenant, group="00000000-0000-0000-0000-000000000001", source="api", product_count=1
    )
    job = Job.objects.create(
        request=request,
        tenant=tenant,
        product=product,
        product_version=product.current_version,
        status="done",
    )
    with transaction.atomic():  # a decision commits with its review state
        decision = Decision.objects.create(
            tenant=tenant,
            job=job,
            attempt=1,
            product=product,
            product_version=product.current_version,
            jurisdiction="US",
            engine_version="test",
            selected_code=code,
            confidence=0.7,
            outcome=outcome,
            reasons=["low_confidence"] if outcome == "needs_review" else [],
            risk_band="medium",
            evidence={"candidates": [{"code": code, "score": 0.7}], "rejected": [], "reasons": []},
        )
        review_states.review_states_open([decision], actor_label="test")
    return decision


def finalize(decision: Decision, *, code: str | None = None, by: str = "acme-broker"):
    """Announce a finalization as the review service does: the outbox event, in a transaction."""
    with transaction.atomic():
        return outbox.emit(
            tenant=decision.tenant,
            type=outbox.DECISION_FINALIZED,
            payload={
                "decision_id": decision.pk,
                "product_id": decision.product_id,
                "sku": decision.product.sku,
                "final_code": code or decision.selected_code,
                "finalized_by": by,
                "link": outbox.link(decision.tenant, "classification:decision", pk=decision.pk),
            },
            target=decision,
        )


# --- API client checked against the OpenAPI document --------------------------------------


class OpenAPIChecker:
    """Validates every API response body against the schema the document declares for it."""

    def __init__(self, document: dict):
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource("urn:openapi", resource)
        self.paths = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", r"[^/]+", p) + "$"), p)
            for p in document["paths"]
        ]

    def schema_for(self, method: str, path: str, status: int) -> dict:
        for pattern, template in self.paths:
            if pattern.match(path):
                operation = self.document["paths"][template][method.lower()]
                responses = operation["responses"]
                assert str(status) in responses, f"{method} {template}: {status} not documented"
                return responses[str(status)]["content"]["application/json"]["schema"]
        raise AssertionError(f"{path} is not in the OpenAPI document")

    def check(self, method: str, path: str, response) -> None:
        schema = self.schema_for(method, path, response.status_code)
        pointer = {"$ref": "urn:openapi#" + schema["$ref"][1:]} if "$ref" in schema else schema
        validator = Draft202012Validator(pointer, registry=self.registry)
        errors = sorted(validator.iter_errors(response.json()), key=str)
        assert not errors, f"{method} {path} {response.status_code}: {errors[0]}"


@pytest.fixture(scope="session")
def openapi_document():
    from integrations.api import api

    # The document as served: JSON (status codes become string keys).
    return json.loads(json.dumps(api.get_openapi_schema(), default=str))


@pytest.fixture
def checker(openapi_document):
    return OpenAPIChecker(openapi_document)


@dataclass
class ApiClient:
    """A test client that sends a bearer token and checks each answer against the document."""

    checker: OpenAPIChecker
    token: str | None = None
    client: Client = field(default_factory=Client)

    def _headers(self):
        return {"authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, params: dict | None = None):
        response = self.client.get(path, params or {}, headers=self._headers())
        self.checker.check("GET", path, response)
        return response

    def post(self, path: str, payload: dict):
        response = self.client.post(
            path, json.dumps(payload), content_type="application/json", headers=self._headers()
        )
        self.checker.check("POST", path, response)
        return response


@pytest.fixture
def api_for(cast, checker):
    """Return ``make(scope="read", tenant=None, **kw) -> ApiClient`` with a fresh token."""

    def make(scope="read", tenant=None, **kwargs):
        _, plaintext = services.token_create(
            actor=cast.users[Role.TENANT_ADMIN],
            tenant=tenant or cast.tenant,
            name=f"ERP {scope}",
            scope=scope,
            **kwargs,
        )
        return ApiClient(checker=checker, token=plaintext)

    return make


# --- A real receiver on loopback -----------------------------------------------------------


@dataclass
class Receiver:
    """What the loopback receiver saw, and what it will answer next."""

    url: str
    secret: str = ""
    # Behaviour of the next requests, consumed in order: an int status or ("sleep", seconds).
    plan: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    accepted: list = field(default_factory=list)
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted_ids(self) -> list[str]:
        return [event["id"] for event in self.accepted]


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with receiver.lock:
                step = receiver.plan.pop(0) if receiver.plan else 200
                receiver.requests.append({"headers": dict(self.headers), "body": body})
            if isinstance(step, tuple):
                time.sleep(step[1])
                step = 200
            valid = signing.verify(
                receiver.secret,
                self.headers.get("X-Workbench-Timestamp"),
                body,
                self.headers.get("X-Workbench-Signature"),
                now=time.time(),
            )
            if not valid:
                with receiver.lock:
                    receiver.bad_signatures += 1
                step = 401
            try:
                self.send_response(step)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if step == 200 else b"nope")
            except (BrokenPipeError, ConnectionResetError):
                return  # the sender gave up (time-out): nothing was delivered
            if step == 200:
                event = json.loads(body)
                assert event["id"] == self.headers["X-Workbench-Event-Id"]
                with receiver.lock:
                    receiver.accepted.append(event)

    return Handler


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    state = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/workbench"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint_for(cast, receiver):
    """Return ``make(event_types=…, url=None, enabled=True)``: an endpoint on the receiver."""

    def make(event_types=(outbox.DECISION_FINALIZED,), url=None, enabled=True, tenant=None):
        endpoint, secret = services.endpoint_create(
            actor=cast.users[Role.COMPLIANCE_LEAD],
            tenant=tenant or cast.tenant,
            url=url or receiver.url,
            event_types=list(event_types),
            enabled=enabled,
        )
        receiver.secret = secret
        return endpoint

    return make
