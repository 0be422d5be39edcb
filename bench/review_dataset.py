"""A review queue of realistic size for the API benchmarks: 100,000 images over 200 characters."""

from __future__ import annotations

SEED_SQL = """
INSERT INTO projects (slug, name) VALUES ('bench', 'Benchmark project');
INSERT INTO generation_styles (project_id, slug, checkpoint)
     SELECT id, 'default', 'animagine-xl-3.1.safetensors' FROM projects WHERE slug = 'bench';
INSERT INTO characters (project_id, slug, name, design_prompt, appearance_data, style_id, target_images)
     SELECT p.id, 'char-' || g, 'Character ' || g, 'design ' || g,
            jsonb_build_object('species', CASE WHEN g % 5 = 0 THEN 'dragon — NOT human' ELSE 'human' END,
                               'key_colors', jsonb_build_object('hair', '#1f2a5c')),
            s.id, 50
       FROM projects p JOIN generation_styles s ON s.project_id = p.id, generate_series(1, $1::int) g
      WHERE p.slug = 'bench';
INSERT INTO images (character_id, file_path, sha256, phash, width, height, status, quality_score, review,
                    prompt, negative_prompt, seed, checkpoint, backend, decided_by)
     SELECT c.id, 'datasets/' || c.slug || '/images/' || i || '.png', md5(i::text),
            (random() * 9e18)::bigint, 512, 512,
            (ARRAY['pending', 'approved', 'rejected'])[1 + i % 3], round(random()::numeric, 3),
            jsonb_build_object('quality_score', 0.5, 'solo', true, 'reason', 'bench', 'backend', 'preview',
                               'checklist', jsonb_build_array(jsonb_build_object('item', 'hair', 'passed', true))),
            'masterpiece, anime style, character', 'lowres', i, 'animagine-xl-3.1.safetensors', 'preview',
            CASE WHEN i % 3 = 0 THEN NULL ELSE 'auto' END
       FROM generate_series(1, $2::int) i
       JOIN characters c ON c.slug = 'char-' || (1 + i % $1::int);
"""


async def seed_review_queue(conn, *, characters: int = 200, images: int = 100_000) -> None:
    # asyncpg runs a multi-statement script only without parameters: substitute two integers.
    await conn.execute(SEED_SQL.replace("$1::int", str(int(characters))).replace("$2::int", str(int(images))))
    # As a long-running queue would be: visibility map and statistics current, not being built by the
    # first requests measured.
    await conn.execute("VACUUM ANALYZE")
