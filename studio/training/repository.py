"""SQL of LoRA training: the approved images a snapshot is made of, and the `lora_checkpoints` rows."""

from __future__ import annotations

import json

from studio.domain.lora_training import GateDecision, sample_gate

CHECKPOINT_COLUMNS = """id, version, file_path, lora_name, sha256, base_model, architecture, rank, network_alpha,
    epochs, steps, image_count, image_ids, dataset_hash, loss_curve, epoch_losses, file_bytes, gpu_seconds,
    sample_images, quality_score, is_active, gate_reason, backend, dagster_run_id, created_at"""


async def approved_rows(conn, character_id: int, image_ids: list[int] | None = None) -> list[dict]:
    """The approved images, each with the vision model's stored caption (`vision_caption`) if it wrote one."""
    rows = await conn.fetch(
        "SELECT i.id, i.file_path, i.sha256, i.review, tc.caption AS vision_caption FROM images i "
        "LEFT JOIN training_captions tc ON tc.image_id = i.id "
        "WHERE i.character_id = $1 AND i.status = 'approved' AND ($2::bigint[] IS NULL OR i.id = ANY($2)) "
        "ORDER BY i.id",
        character_id, image_ids or None,
    )
    return [dict(r) for r in rows]


async def base_architecture_of(conn, character_id: int) -> str | None:
    return await conn.fetchval(
        "SELECT s.base_architecture FROM characters c JOIN generation_styles s ON s.id = c.style_id WHERE c.id = $1",
        character_id,
    )


def _row(record) -> dict:
    row = dict(record)
    for key in ("image_ids", "loss_curve", "epoch_losses", "sample_images"):
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key])
    return row


async def checkpoints(conn, character_id: int) -> list[dict]:
    rows = await conn.fetch(f"SELECT {CHECKPOINT_COLUMNS} FROM lora_checkpoints WHERE character_id = $1 "
                            "ORDER BY version", character_id)
    return [_row(r) for r in rows]


async def checkpoint(conn, character_id: int, version: int) -> dict | None:
    row = await conn.fetchrow(f"SELECT {CHECKPOINT_COLUMNS} FROM lora_checkpoints "
                              "WHERE character_id = $1 AND version = $2", character_id, version)
    return _row(row) if row else None


async def active_checkpoint(conn, character_id: int) -> dict | None:
    row = await conn.fetchrow(f"SELECT {CHECKPOINT_COLUMNS} FROM lora_checkpoints "
                              "WHERE character_id = $1 AND is_active", character_id)
    return _row(row) if row else None


async def latest_dataset_hash(conn, character_id: int) -> str | None:
    return await conn.fetchval("SELECT dataset_hash FROM lora_checkpoints WHERE character_id = $1 "
                               "ORDER BY version DESC LIMIT 1", character_id)


async def next_version(conn, character_id: int) -> int:
    return await conn.fetchval("SELECT coalesce(max(version), 0) + 1 FROM lora_checkpoints WHERE character_id = $1",
                               character_id)


async def record_checkpoint(conn, *, character_id: int, version: int, fields: dict) -> tuple[int, GateDecision]:
    """Insert the checkpoint and apply the sample gate in one transaction: the row, the active flag
    and the gate's decision in autonomy_decisions land together or not at all."""
    async with conn.transaction():
        # Serialises two trainings of one character at the gate (the pool allows one, a person may not).
        await conn.execute("SELECT id FROM characters WHERE id = $1 FOR UPDATE", character_id)
        active = await conn.fetchrow("SELECT id, quality_score FROM lora_checkpoints "
                                     "WHERE character_id = $1 AND is_active", character_id)
        decision = sample_gate(fields.get("quality_score"), active["quality_score"] if active else None,
                               has_active=active is not None)
        if decision.activate and active:
            await conn.execute("UPDATE lora_checkpoints SET is_active = false WHERE id = $1", active["id"])
        columns = ["character_id", "version", *fields, "is_active", "gate_reason"]
        # jsonb columns take Python values: the pool's codec encodes them (studio/db/pool.py).
        values = [character_id, version, *fields.values(), decision.activate, decision.reason]
        placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
        checkpoint_id = await conn.fetchval(
            f"INSERT INTO lora_checkpoints ({', '.join(columns)}) VALUES ({placeholders}) RETURNING id", *values)
        await conn.execute(
            "INSERT INTO autonomy_decisions (character_id, kind, action, reason, details) "
            "VALUES ($1, 'lora_gate', $2, $3, $4)",
            character_id, "activate" if decision.activate else "keep_previous", decision.reason,
            {"version": version, "quality_score": fields.get("quality_score")},
        )
    return checkpoint_id, decision


async def set_active(conn, character_id: int, version: int) -> dict | None:
    """A person chooses the active LoRA; None when the character has no such version."""
    async with conn.transaction():
        target = await conn.fetchval("SELECT id FROM lora_checkpoints WHERE character_id = $1 AND version = $2",
                                     character_id, version)
        if target is None:
            return None
        await conn.execute("UPDATE lora_checkpoints SET is_active = false WHERE character_id = $1 AND is_active "
                           "AND id <> $2", character_id, target)
        await conn.execute("UPDATE lora_checkpoints SET is_active = true, gate_reason = 'chosen by a person' "
                           "WHERE id = $1", target)
        await conn.execute(
            "INSERT INTO autonomy_decisions (character_id, kind, action, reason, details) "
            "VALUES ($1, 'lora_gate', 'activate', 'chosen by a person', $2)",
            character_id, {"version": version})
    return await checkpoint(conn, character_id, version)
