"""The compiled-regex disk cache (tawazun.evidence.diskcache): patterns built from it are
the patterns re.compile builds, and no state of the cache file changes a result."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tawazun.evidence import dates, diskcache, numbers, quotes
from tawazun.evidence.stances import Lexicon

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "evidence" / "ar_01.txt"

# the package's own patterns: the date grammar, the stance cues and gates, and a few
# module-level ones (with named groups, lookbehinds, flags and non-ASCII classes)
PATTERNS = ([rx.pattern for _, rx in dates._RX] + [dates._ANCHOR.pattern, numbers._DIGITS.pattern,
            quotes._VERB_RX.pattern]
            + [c.rx.pattern for c in Lexicon.default().cues if isinstance(c.rx, re.Pattern)]
            + [g.pattern for g in (Lexicon.default().gates or {}).values()])


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TAWAZUN_CACHE", str(tmp_path))
    monkeypatch.delenv("TAWAZUN_NO_REGEX_CACHE", raising=False)
    diskcache.reset()
    yield tmp_path
    diskcache.reset()


def _regex_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("regex-*.marshal"))


def test_cold_and_warm_patterns_equal_re_compile(fresh_cache):
    assert len(PATTERNS) > 40
    cold = [diskcache.compile(p) for p in PATTERNS]
    flagged = diskcache.compile(r"(?P<w>[a-z]+)\s+\1", re.IGNORECASE | re.MULTILINE)
    assert not _regex_files(fresh_cache)  # written at exit, not before
    diskcache._save()
    files = _regex_files(fresh_cache)
    assert len(files) == 1
    diskcache.reset()
    warm = [diskcache.compile(p) for p in PATTERNS]
    assert diskcache._state["used"] and not diskcache._state["new"]  # all came from the file
    for p, a, b in zip(PATTERNS, cold, warm):
        ref = re.compile(p)
        # Pattern equality compares the pattern text, the flags and the compiled code
        assert a == ref and b == ref, p[:80]
        assert b.groupindex == ref.groupindex and b.groups == ref.groups
    again = diskcache.compile(r"(?P<w>[a-z]+)\s+\1", re.IGNORECASE | re.MULTILINE)
    assert again == flagged == re.compile(r"(?P<w>[a-z]+)\s+\1", re.IGNORECASE | re.MULTILINE)
    assert again.match("Ab ab").group("w") == "Ab"


def test_corrupt_or_damaged_cache_falls_back(fresh_cache):
    p = dates._RX[0][1].pattern
    diskcache.compile(p)
    diskcache._save()
    (f,) = _regex_files(fresh_cache)
    # a file that is not marshal data: ignored
    f.write_bytes(b"\x00not marshal")
    diskcache.reset()
    assert diskcache.compile(p) == re.compile(p)
    # a well-formed table whose code is damaged: _sre rejects it and we compile afresh
    import marshal

    key = (p, 0)
    entry = diskcache._entry(p, 0)
    bad = (entry[0], bytes([7, 0, 0, 0]) * (len(entry[1]) // 4), entry[2], entry[3], entry[4])
    f.write_bytes(marshal.dumps({key: bad}))
    diskcache.reset()
    assert diskcache.compile(p) == re.compile(p)


def test_invalid_pattern_raises_re_error(fresh_cache):
    with pytest.raises(re.error):
        diskcache.compile("(unclosed")


def test_unwritable_cache_folder_is_not_an_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("TAWAZUN_CACHE", str(blocker))  # a file: no folder can be made in it
    diskcache.reset()
    try:
        assert diskcache.compile(r"\d+x") == re.compile(r"\d+x")
        diskcache._save()
        assert blocker.read_text() == "x"
    finally:
        diskcache.reset()


def test_table_is_bounded(fresh_cache, monkeypatch):
    monkeypatch.setattr(diskcache, "MAX_ENTRIES", 3)
    for k in range(5):
        diskcache.compile(f"a{k}b")
    diskcache._save()
    diskcache.reset()
    diskcache.compile("a4b")  # from the file
    diskcache.compile("zz")  # new: table (5) + new (1) > 3 keeps the used and the new only
    diskcache._save()
    assert set(diskcache._state["table"]) == {("a4b", 0), ("zz", 0)}


def _extract_json(env: dict[str, str]) -> str:
    code = ("import json,sys; from tawazun.evidence.pipeline import extract; "
            "print(json.dumps(extract(open(sys.argv[1], encoding='utf-8').read()), ensure_ascii=False))")
    res = subprocess.run([sys.executable, "-c", code, str(FIXTURE)], capture_output=True, text=True,
                         check=True, env=env, cwd=ROOT)
    return res.stdout


def test_same_extraction_without_cold_and_warm_cache(tmp_path):
    env = dict(os.environ, TAWAZUN_CACHE=str(tmp_path))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    plain = _extract_json(dict(env, TAWAZUN_NO_REGEX_CACHE="1"))
    assert not _regex_files(tmp_path)
    cold = _extract_json(env)
    assert len(_regex_files(tmp_path)) == 1
    warm = _extract_json(env)
    assert json.loads(plain)["actors"]
    assert plain == cold == warm
