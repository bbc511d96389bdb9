"""A local webhook receiver for trying integrations: verifies signatures and prints events."""

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management.base import BaseCommand

from integrations import signing


class Command(BaseCommand):
    help = (
        "Listen on 127.0.0.1 for webhook POSTs, check each signature with --secret, print the "
        "event and answer 200 (401 for a bad signature)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=9000)
        parser.add_argument("--secret", required=True, help="the endpoint's whsec_… secret")

    def handle(self, *args, port, secret, **options):
        out = self.stdout

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ok = signing.verify(
                    secret,
                    self.headers.get("X-Workbench-Timestamp"),
                    body,
                    self.headers.get("X-Workbench-Signature"),
                    now=time.time(),
                )
                self.send_response(200 if ok else 401)
                self.end_headers()
                event_id = self.headers.get("X-Workbench-Event-Id")
                if not ok:
                    out.write(f"REFUSED {event_id}: bad signature or stale timestamp")
                    return
                event = json.loads(body)
                out.write(f"VERIFIED {event_id} {event['type']}")
                out.write(json.dumps(event["data"], indent=2, sort_keys=True))

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        out.write(f"Listening on http://127.0.0.1:{port}/ (Ctrl-C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
