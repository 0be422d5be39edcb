"""`studio export` keeps a person's decisions and the datasets; `studio import` brings them back into
a fresh home after `make clean`."""

from __future__ import annotations

import asyncio

from studio.cli import main as studio
from studio.db.pool import connect
from studio.review.decisions import approve, reject
from tests.conftest import EXAMPLE_SPEC, TEMPLATE_DB, _create_database
from tests.review_seed import seed_image
from tests.test_dataset_batch import fetch


def test_decisions_and_images_survive_export_and_import_into_a_fresh_database(studio_env, db_url, pg_server_url,
                                                                              tmp_path, monkeypatch, capsys):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    media = studio_env / "media"
    [mika] = fetch(db_url, "SELECT id FROM characters WHERE slug = 'mika'")

    async def work():
        async with connect(db_url) as conn:
            ids = [await seed_image(conn, media, mika["id"], n) for n in (1, 2, 3)]
            await approve(conn, ids[0], reviewer="ana")
            await reject(conn, ids[1], reviewer="ana", categories=["off_model_colours"], comment="hair is blue")
            return ids

    asyncio.run(work())
    archive = tmp_path / "keep.tar.gz"
    assert studio(["export", str(archive)]) == 0
    assert "3 images (2 decided by a person), 2 review notes" in capsys.readouterr().out

    fresh_url = _create_database(pg_server_url, TEMPLATE_DB)
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "fresh_home"))
    monkeypatch.setenv("STUDIO_DATABASE_URL", fresh_url)
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    assert studio(["import", str(archive)]) == 0
    rows = fetch(fresh_url, "SELECT status, decided_by, reviewer, file_path FROM images ORDER BY seed")
    assert [(r["status"], r["decided_by"], r["reviewer"]) for r in rows] == [
        ("approved", "human", "ana"), ("rejected", "human", "ana"), ("pending", None, None)]
    assert all((tmp_path / "fresh_home" / "media" / r["file_path"]).is_file() for r in rows)
    [note] = fetch(fresh_url, "SELECT categories, comment FROM review_feedback WHERE decision = 'rejected'")
    assert note["categories"] == ["off_model_colours"] and note["comment"] == "hair is blue"
    # Importing twice changes nothing.
    assert studio(["import", str(archive)]) == 0
    assert "imported 0 new images, 0 human decisions restored on existing ones, 0 review notes" in capsys.readouterr().out
