"""Autonomy: the replenishment sensor's plain code (facts, decisions, learning, settings) over asyncpg."""
