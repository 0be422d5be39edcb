"""`studio import FILE.tar.gz`: bring back what `studio export` kept, into a home whose project spec
is imported. An image already there (same sha256) keeps its row; a person's decision in the archive
wins over a pending or automatic one. Everything in one transaction; files are written atomically."""

from __future__ import annotations

import json
import tarfile
from datetime import datetime
from pathlib import Path, PurePosixPath

from studio.db.session import studio_connection
from studio.settings import Settings
from studio.transfer.archive import IMAGE_FIELDS, MANIFEST, VERSION
from studio.uploads import write_atomically


def _safe(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and not PurePosixPath(path).is_absolute() and ".." not in parts


async def import_archive(settings: Settings, path: Path) -> int:
    with tarfile.open(path, "r:gz") as tar:
        manifest = json.loads(tar.extractfile(MANIFEST).read())
        if manifest.get("version") != VERSION:
            raise ValueError(f"{path}: archive version {manifest.get('version')!r}, this studio reads {VERSION}")
        files = {m.name[len("media/"):]: m for m in tar.getmembers() if m.isfile() and m.name.startswith("media/")}
        async with studio_connection(settings) as conn:
            characters = {r["slug"]: r["id"] for r in await conn.fetch("SELECT slug, id FROM characters")}
            added = decided = skipped = 0
            async with conn.transaction():
                for image in manifest["images"]:
                    character_id = characters.get(image["character"])
                    if character_id is None or not _safe(image["file_path"]):
                        skipped += 1
                        continue
                    target = settings.media_root / image["file_path"]
                    if not target.exists() and image["file_path"] in files:
                        write_atomically(target, tar.extractfile(files[image["file_path"]]).read())
                    reviewed_at = datetime.fromisoformat(image["reviewed_at"]) if image["reviewed_at"] else None
                    values = [image[f]
                              for f in IMAGE_FIELDS]
                    columns = ", ".join(IMAGE_FIELDS)
                    placeholders = ", ".join(f"${n}" + ("::jsonb" if f == "review" else "")
                                             for n, f in enumerate(IMAGE_FIELDS, 3))
                    row = await conn.fetchrow(
                        f"""INSERT INTO images (character_id, reviewed_at, {columns}) VALUES ($1, $2, {placeholders})
                            ON CONFLICT (sha256) DO UPDATE
                               SET status = EXCLUDED.status, decided_by = EXCLUDED.decided_by,
                                   reviewer = EXCLUDED.reviewer, reviewed_at = EXCLUDED.reviewed_at, updated_at = now()
                             WHERE EXCLUDED.decided_by = 'human' AND images.decided_by IS DISTINCT FROM 'human'
                            RETURNING (xmax = 0) AS inserted""",
                        character_id, reviewed_at, *_decoded(values))
                    if row is not None:
                        added += row["inserted"]
                        decided += (not row["inserted"])
                notes = 0
                for note in manifest["feedback"]:
                    notes += int((await conn.execute(
                        """INSERT INTO review_feedback (image_id, character_id, decision, categories, comment,
                                                        reviewer, created_at)
                           SELECT i.id, i.character_id, $2, $3, $4, $5, $6 FROM images i WHERE i.sha256 = $1
                              AND NOT EXISTS (SELECT 1 FROM review_feedback f WHERE f.image_id = i.id
                                              AND f.reviewer = $5 AND f.created_at = $6)""",
                        note["sha256"], note["decision"], note["categories"], note["comment"], note["reviewer"],
                        datetime.fromisoformat(note["created_at"]))).split()[-1])
    print(f"imported {added} new images, {decided} human decisions restored on existing ones, {notes} review notes"
          + (f"; {skipped} skipped (character not imported: run `studio import SPEC` first)" if skipped else ""))
    return 0


def _decoded(values: list) -> list:
    # The pool's jsonb codec encodes Python objects itself: hand it the object, not its JSON text.
    return [json.loads(v) if i == IMAGE_FIELDS.index("review") and isinstance(v, str) else v
            for i, v in enumerate(values)]
