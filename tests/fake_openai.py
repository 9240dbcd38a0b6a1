"""A tiny scripted OpenAI-compatible server on 127.0.0.1 for tests about scheduling, leases and
retries (not about generation): replies are derived from the request, so runs are reproducible."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeOpenAI:
    """``with FakeOpenAI(delay=0.05) as srv: srv.url`` -> ``http://127.0.0.1:PORT/v1``.

    ``failures``: HTTP statuses answered, in order, to the first chat requests (then normal replies).
    ``owned_by``: what ``GET /models`` says (``"me"`` = llama-cpp-python, ``"vllm"``, ``"openai"``...).
    ``respond``: ``respond(request body) -> (status, reply text)`` instead of the scripted counselor reply (a judge's
    JSON, a request refused for its ``response_format``...).
    """

    def __init__(self, *, delay: float = 0.0, failures: list[int] | None = None, owned_by: str = "fake",
                 model: str = "fake-model", fingerprint: str = "fp_fake1", cached: int | None = 7,
                 slow: list[float] | None = None, respond: Any = None):
        self.delay, self.failures, self.owned_by, self.model = delay, list(failures or []), owned_by, model
        self.respond = respond
        self.slow = list(slow or [])  # delays of the first chat requests (then ``delay``)
        self.fingerprint, self.cached = fingerprint, cached
        self.requests: list[dict[str, Any]] = []
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> "FakeOpenAI":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": fake.model, "object": "model", "owned_by": fake.owned_by}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with fake._lock:
                    fake.requests.append(body)
                    status = fake.failures.pop(0) if fake.failures else 200
                    delay = fake.slow.pop(0) if fake.slow else fake.delay
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    time.sleep(delay)
                    if status != 200:
                        self._send(status, {"error": {"message": f"scripted failure {status}"}})
                        return
                    if fake.respond is not None:
                        status, text = fake.respond(body)
                        if status != 200:
                            self._send(status, {"error": {"message": text}})
                            return
                    else:
                        last = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
                        text = f"I hear you about {last.split()[0] if last.split() else 'that'}. What felt hardest (seed {body.get('seed')})?"
                    usage: dict[str, Any] = {"prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52}
                    if fake.cached is not None:
                        usage["prompt_tokens_details"] = {"cached_tokens": fake.cached}
                    self._send(200, {
                        "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": fake.model,
                        "system_fingerprint": fake.fingerprint,
                        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
                        "usage": usage,
                    })
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                import sys

                if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that timed out and left
                    super().handle_error(request, client_address)

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
