"""The demo's stand-in for a person: what it decides from the automatic review's findings."""

import asyncio

from studio.domain.review import ChecklistItem, ReviewResult
from studio.domain.stand_in_review import stand_in_verdict
from studio.db.pool import connect
from studio.review.demo_step import review_as_person


def _review(**changes) -> ReviewResult:
    values = {"quality_score": 1.0, "solo": True, "backend": "preview", "species_ok": None,
              "checklist": [ChecklistItem(item="scales colour #e8642a", passed=True),
                            ChecklistItem(item="sharp", passed=True), ChecklistItem(item="well exposed", passed=True)]}
    return ReviewResult(**{**values, **changes})


def test_a_clean_review_of_a_non_human_is_approved():
    assert stand_in_verdict(_review()).decision == "approved"


def test_what_the_reviewer_found_becomes_the_reasons_a_person_would_tick():
    verdict = stand_in_verdict(_review(solo=False, species_ok=False, checklist=[
        ChecklistItem(item="scales colour #e8642a", passed=False), ChecklistItem(item="sharp", passed=False),
        ChecklistItem(item="eyes colour #2c8f6e", passed=False)]))
    assert verdict.decision == "rejected"
    assert verdict.categories == ("wrong_species", "not_solo", "off_model_colours", "blurry")


def test_a_middling_score_with_nothing_named_is_rejected_as_other():
    assert stand_in_verdict(_review(quality_score=0.6)).categories == ("other",)


def test_a_review_that_failed_is_left_for_a_real_person():
    assert stand_in_verdict(_review(error="ollama timed out")).decision == "pending"


SEED_SQL = """
WITH p AS (INSERT INTO projects (slug, name) VALUES ('lantern-harbor', 'Lantern Harbor'), ('other', 'Other')
           RETURNING id, slug),
     c AS (INSERT INTO characters (project_id, slug, name, design_prompt, appearance_data)
           SELECT p.id, x.slug, x.slug, 'a dragon', '{"species": "dragon — NOT human"}'::jsonb
             FROM p JOIN (VALUES ('lantern-harbor', 'ember'), ('other', 'wyrm')) AS x(project, slug)
               ON x.project = p.slug
           RETURNING id, slug)
INSERT INTO images (character_id, file_path, sha256, phash, status, quality_score, review)
SELECT c.id, c.slug || n || '.png', c.slug || n, n, 'pending', r.score, r.review
  FROM c, generate_series(1, 2) AS n,
       LATERAL (SELECT CASE WHEN n = 1 THEN 1.0 ELSE 0.6 END AS score) s,
       LATERAL (SELECT s.score, $1::jsonb || jsonb_build_object('quality_score', s.score) AS review) r
"""


async def _seed_and_read(db_url: str, seed: bool) -> list[tuple]:
    async with connect(db_url) as db:
        if seed:
            await db.execute(SEED_SQL, _review().model_dump(mode="json"))
            return []
        rows = await db.fetch("""SELECT c.slug, i.status, i.decided_by, i.reviewer, f.categories FROM images i
                                  JOIN characters c ON c.id = i.character_id
                                  LEFT JOIN review_feedback f ON f.image_id = i.id ORDER BY c.slug, i.id""")
        return [(r["slug"], r["status"], r["decided_by"], r["reviewer"], r["categories"]) for r in rows]


def test_the_demo_decides_only_its_own_project_and_signs_as_a_human_decision(studio_env, db_url):
    asyncio.run(_seed_and_read(db_url, seed=True))
    assert review_as_person("lantern-harbor") == 2
    assert asyncio.run(_seed_and_read(db_url, seed=False)) == [
        ("ember", "approved", "human", "demo", []),
        ("ember", "rejected", "human", "demo", ["other"]),
        # Another project's queue in the same home is a real person's: untouched.
        ("wyrm", "pending", None, None, None), ("wyrm", "pending", None, None, None)]
