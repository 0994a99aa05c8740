"""Arena format v1: models, loading with line-numbered problems, compilation to arrays."""

from tawazun.arena.load import DEFAULT_ARENA, arena_hash, json_schema, load_arena, parse_arena_text, resolve
from tawazun.arena.model import Arena

__all__ = ["Arena", "DEFAULT_ARENA", "arena_hash", "json_schema", "load_arena", "parse_arena_text", "resolve"]
