"""docs/architecture.md names every module of core/ and pages/, and nothing that is not there."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def layout_block() -> str:
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text[text.index("## Layout") :]
    return section[section.index("```") + 3 : section.index("```", section.index("```") + 3)]


def named_files() -> set[str]:
    """Paths the layout names: each line's first word under its folder, by indentation, plus "also" names."""
    named, folders = set(), {}
    for line in layout_block().splitlines():
        match = re.match(r"^( *)(\S+)", line)
        if not match:
            continue
        depth, name = len(match.group(1)) // 2, match.group(2)
        parent = folders.get(depth - 1, "")
        path = f"{parent}{name}"
        if name.endswith("/"):
            folders[depth] = path
        elif name.endswith(".py"):
            named.add(path)
            # "…; callbacks.py carries …", "… race_job.py a race's": sibling modules named in the text.
            for sibling in re.findall(r"\b([a-z_]+\.py)\b", line[match.end() :]):
                named.add(f"{parent}{sibling}")
    return named


def test_the_layout_names_exactly_the_modules_of_core_and_pages():
    on_disk = {
        str(path.relative_to(ROOT))
        for folder in ("core", "pages")
        for path in (ROOT / folder).rglob("*.py")
        if path.name not in ("__init__.py", "__main__.py")
    }
    named = {path for path in named_files() if path.startswith(("core/", "pages/"))}
    assert on_disk - named == set(), "modules docs/architecture.md does not describe"
    assert named - on_disk == set(), "docs/architecture.md describes modules that do not exist"
