"""Sealed forecasts: ledger entries and their audit checks (pure; the CLI reads and writes).

A ledger is a JSON Lines file, one entry per sealed run. An entry records the SHA-256 of the
run's ``result.json`` bytes, of the arena file and of the installed package's files, the
package version, the seed and every option needed to re-run it, the questions' forecasts, the
time, the previous entry's hash (``prev``) and its own hash (``entry_sha256``, over the entry
without that field, canonical JSON). See docs/loop.md.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

LEDGER_FORMAT = "tawazun-ledger/1"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    return sha256(canonical({k: v for k, v in entry.items() if k != "entry_sha256"}))


def parse_ledger(text: str, name: str) -> list[dict[str, Any]]:
    """Entries of a ledger file; a malformed line is one ``file:line: message`` error."""
    from tawazun.errors import InputError

    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{name}:{n}: (entry): not JSON: {exc.msg}") from None
        if not isinstance(entry, dict) or entry.get("format") != LEDGER_FORMAT:
            raise InputError(f"{name}:{n}: format: expected a {LEDGER_FORMAT} entry")
        out.append(entry)
    return out


def make_entry(*, result: bytes, manifest: dict[str, Any], arena_path: str, arena_bytes: bytes,
               package_sha256: str, version: str, run_dir: str, questions: list[dict[str, Any]],
               sealed: str, prev: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "format": LEDGER_FORMAT,
        "id": sha256(result)[:16],
        "sealed": sealed,
        "run_dir": run_dir,
        "result_sha256": sha256(result),
        "arena": {"id": manifest["arena"]["id"], "path": arena_path, "sha256": sha256(arena_bytes)},
        "tawazun_version": version,
        "package_sha256": package_sha256,
        "seed": manifest["seed"],
        "config": {k: manifest.get(k) for k in ("engines", "options", "draws", "dist", "sensitivity", "sobol_n", "dynamics")},
        "questions": questions,
        "prev": prev,
    }
    entry["entry_sha256"] = entry_hash(entry)
    return entry


def find(entries: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    """An entry by id (or a unique prefix of it, or of its result hash), or by 1-based number."""
    if key.isdigit() and 1 <= int(key) <= len(entries) and len(key) < 6:
        return entries[int(key) - 1]
    hits = [e for e in entries if e["id"].startswith(key) or e["result_sha256"].startswith(key)]
    return hits[0] if len(hits) == 1 else None


def chain_problems(entries: list[dict[str, Any]]) -> list[str]:
    """Entries whose own hash or link to the previous entry does not hold."""
    out = []
    prev = None
    for n, e in enumerate(entries, 1):
        if e.get("entry_sha256") != entry_hash(e):
            out.append(f"entry {n} ({e.get('id')}): its content does not match its entry_sha256")
        if e.get("prev") != prev:
            out.append(f"entry {n} ({e.get('id')}): prev does not match entry {n - 1}'s hash")
        prev = e.get("entry_sha256")
    return out


def check(name: str, ok: bool, detail: str) -> dict[str, Any]:
    return {"check": name, "result": "PASS" if ok else "FAIL", "detail": detail}
