"""One GET straight through an ASGI app in this process, with no server or socket: how the start-up
bench and tests/test_api_start_up.py reach a fresh service's first answer."""


async def asgi_get(app, path: str) -> int:
    """The status the app answers `GET path` with."""
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app({"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
               "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
               "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 5000),
               "server": ("127.0.0.1", 8000)}, receive, send)
    return sent[0]["status"]
