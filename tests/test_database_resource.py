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
