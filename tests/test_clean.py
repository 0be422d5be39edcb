"""`make clean` refuses under running services and asks before deleting a person's decisions."""

from __future__ import annotations

import asyncio
import os

import pytest

from studio.clean import CleanRefused, clean_home
from studio.db.session import studio_connection
from studio.service_state import write_state
from studio.settings import settings_for
from tests.review_seed import seed_character, seed_image, seed_project


def test_clean_refuses_while_up_runs_and_asks_before_deleting_human_decisions(tmp_path):
    settings = settings_for(home=tmp_path / "home")

    async def seed():
        async with studio_connection(settings) as conn:  # starts the home's embedded PostgreSQL
            character = await seed_character(conn, await seed_project(conn), "mika")
            image = await seed_image(conn, None, character, 1)
            await conn.execute("UPDATE images SET status = 'approved', decided_by = 'human' WHERE id = $1", image)

    asyncio.run(seed())
    write_state(settings, os.getpid(), {"api": os.getpid()})  # as if `studio up` ran
    with pytest.raises(CleanRefused, match="services are running.*make stop"):
        clean_home(settings, yes=True)
    (settings.home / "run" / "up.json").unlink()

    with pytest.raises(CleanRefused, match="1 human review decision"):
        clean_home(settings, yes=False)  # no terminal under pytest, no --yes
    with pytest.raises(CleanRefused, match="nothing deleted"):
        clean_home(settings, yes=False, ask=lambda question: "no")
    assert settings.home.exists()
    assert clean_home(settings, yes=False, ask=lambda question: "delete") == f"deleted {settings.home}"
    assert not settings.home.exists()
