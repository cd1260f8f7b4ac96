"""House rules for the project's text: history lives in git, not in the code, the READMEs or the docs."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README_MAX_LINES = 250
ORDINALS = (
    "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|"
    "fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth"
)
# "the twelfth session", "session 14", "issue 31": a diary's words, which go stale the day they are written.
DIARY = re.compile(rf"\b(?:(?:{ORDINALS}|\d+(?:st|nd|rd|th))[ -]session|session #?\d+|issue #?\d+)\b", re.IGNORECASE)
TEXT_SUFFIXES = {".py", ".md", ".txt", ".toml", ".cfg", ".ini", ".yaml", ".yml", ".json", ".sh", ""}


def tracked_text_files() -> list[Path]:
    """Every file git tracks outside tests/, whose suffix marks it as text."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    paths = [ROOT / name for name in listed.decode().split("\0") if name]
    return [
        path
        for path in paths
        if path.is_file() and path.relative_to(ROOT).parts[0] != "tests" and path.suffix in TEXT_SUFFIXES
    ]


def diary_lines(path: Path) -> list[str]:
    """The lines of `path` that speak of sessions or issue numbers, as "path:line: text"."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return []
    name = path.relative_to(ROOT)
    lines = enumerate(text.splitlines(), 1)
    return [f"{name}:{number}: {line.strip()}" for number, line in lines if DIARY.search(line)]


def test_no_tracked_text_outside_the_tests_speaks_of_sessions_or_issue_numbers():
    found = [line for path in tracked_text_files() for line in diary_lines(path)]
    assert found == [], "history belongs in git, not in the project's text:\n" + "\n".join(found[:40])


def test_the_readme_is_a_guide_short_enough_to_finish():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; keep it to {README_MAX_LINES}"


def test_the_rule_recognises_a_diary():
    # The rule's own pattern, on the phrases it exists to catch and on ordinary words it must let pass.
    diaries = ("the fourteenth session measured", "Session 12 refitted", "see issue 14", "issue #31", "3rd session")
    for phrase in diaries:
        assert DIARY.search(phrase), phrase
    for phrase in ("a browser session", "this session's runs", "issues show 31", "the session state", "an issue"):
        assert not DIARY.search(phrase), phrase
