"""Large (face) bodies in flight are bounded per process (F3): past the bound one more is refused
with 429 / 9005 before a byte of it is read, so memory stays bounded whatever the load. Driven
through the real RequestFrame at the ASGI level, where "in flight" is exact, not timed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from idstore.api.middleware import RequestFrame

FACE_PATH = "/api/identity-store/stores/s/users/u/biometrics/FACE"
LARGE = 5 * 1024 * 1024


class Client:
    """One request whose body arrives only when `release` is set; records what the app sent."""

    def __init__(self, frame: RequestFrame, length: int) -> None:
        self.frame, self.length = frame, length
        self.release = asyncio.Event()
        self.reads = 0
        self.sent: list[Message] = []

    def scope(self) -> Scope:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % self.length)]
        return {"type": "http", "method": "POST", "path": FACE_PATH, "headers": headers}

    async def receive(self) -> Message:
        self.reads += 1
        await self.release.wait()
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    async def run(self) -> None:
        await self.frame(self.scope(), self.receive, self.send)

    def answer(self) -> tuple[int, dict[bytes, bytes], dict[str, Any]]:
        start, body = self.sent[0], self.sent[1]
        return start["status"], dict(start["headers"]), json.loads(body["body"])


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def test_past_the_bound_a_large_body_is_refused_unread_and_the_slot_comes_back() -> None:
    async def scenario() -> tuple[list[Client], Client, Client, Client]:
        frame = RequestFrame(echo, max_large_bodies=2)
        holding = [Client(frame, LARGE) for _ in range(2)]
        tasks = [asyncio.ensure_future(client.run()) for client in holding]
        await asyncio.sleep(0)  # both take their slot and wait for their bodies
        refused, small = Client(frame, LARGE), Client(frame, 100)
        small.release.set()
        await refused.run()
        await small.run()
        for client in holding:
            client.release.set()
        await asyncio.gather(*tasks)
        after = Client(frame, LARGE)
        after.release.set()
        await after.run()
        return holding, refused, small, after

    holding, refused, small, after = asyncio.run(scenario())

    status, headers, body = refused.answer()
    assert (status, body["code"], headers[b"retry-after"]) == (429, 9005, b"1")
    assert refused.reads == 0
    assert [client.answer()[0] for client in (*holding, small, after)] == [200] * 4
