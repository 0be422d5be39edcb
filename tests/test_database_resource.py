"""The StudioDatabase resource as sensors use it: run_sync on the calling thread."""

import threading

from resources.database import StudioDatabase


def test_run_sync_hands_back_the_result_without_formatting_it(db_url):
    formatted = []

    class Outcome:
        def __repr__(self):
            formatted.append(1)
            return "Outcome()"

    async def work(conn):
        assert await conn.fetchval("SELECT 1") == 1
        return Outcome()

    # On the main thread asyncio.run looks up its SIGINT handler, whose repr holds the main task's result.
    assert threading.current_thread() is threading.main_thread()
    assert isinstance(StudioDatabase(url=db_url).run_sync(work), Outcome)
    assert formatted == []


def test_jsonb_comes_back_as_json_loads_reads_its_text(db_url):
    import asyncio
    import json

    from studio.db.pool import connect

    documents = ['{"a": 1, "b": [1.5, "x\\u00e9", null, true, false, {}]}', '"text"', "12345678901234567890123",
                 "-1.25e+30", "null", "[]", '{"emoji": "\\ud83d\\ude00", "nested": {"k": [[]]}}']

    async def check():
        async with connect(db_url) as conn:
            for document in documents:
                value, text = await conn.fetchrow("SELECT $1::text::jsonb, $1::text::jsonb::text", document)
                assert value == json.loads(text)

    asyncio.run(check())
