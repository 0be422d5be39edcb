"""`studio export FILE`: a person's work (decisions, feedback) and the datasets, kept outside the home."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from studio.db.session import studio_connection
from studio.settings import Settings
from studio.transfer.archive import IMAGE_FIELDS, MANIFEST, VERSION
from studio.uploads import write_atomically


async def export_archive(settings: Settings, path: Path) -> int:
    async with studio_connection(settings) as conn:
        images = await conn.fetch(
            f"""SELECT c.slug AS character, {", ".join("i." + f for f in IMAGE_FIELDS)},
                       i.review::text AS review_json, i.reviewed_at
                  FROM images i JOIN characters c ON c.id = i.character_id ORDER BY i.id""")
        feedback = await conn.fetch(
            """SELECT i.sha256, f.decision, f.categories, f.comment, f.reviewer, f.created_at
                 FROM review_feedback f JOIN images i ON i.id = f.image_id ORDER BY f.id""")
    manifest = {
        "version": VERSION,
        "images": [{**{f: row[f] for f in IMAGE_FIELDS if f != "review"}, "character": row["character"],
                    "review": json.loads(row["review_json"]) if row["review_json"] else None,
                    "reviewed_at": row["reviewed_at"].isoformat() if row["reviewed_at"] else None} for row in images],
        "feedback": [{**dict(row), "categories": list(row["categories"]), "created_at": row["created_at"].isoformat()}
                     for row in feedback],
    }
    buffer = io.BytesIO()
    missing = 0
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = json.dumps(manifest, indent=1).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for image in manifest["images"]:
            source = settings.media_root / image["file_path"]
            if source.is_file():
                tar.add(source, arcname=f"media/{image['file_path']}")
            else:
                missing += 1
    write_atomically(path, buffer.getvalue())
    human = sum(1 for i in manifest["images"] if i["decided_by"] == "human")
    print(f"exported {len(manifest['images'])} images ({human} decided by a person), "
          f"{len(manifest['feedback'])} review notes to {path}" + (f"; {missing} files missing" if missing else ""))
    return 0
