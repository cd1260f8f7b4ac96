"""The patches of Streamlit's private code (pages/streamlit_patches.py) still take effect, or fail loudly."""

import re
from pathlib import Path

import pytest
import streamlit as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from core.results import lesson_texts
from pages import streamlit_patches
from pages.streamlit_patches import StreamlitPatchError, keep_keras_state_between_reruns, route_through_app

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
STREAMLITS_CLEAN_UP = script_runner._clean_problem_modules  # Streamlit's own, unless app.py already ran


@pytest.fixture
def fresh_server(monkeypatch):
    """A server process before app.py has run: Streamlit's own per-run clean-up, legacy mode not yet left.

    Returns Streamlit's clean-up function.
    """
    original = getattr(script_runner, "_clean_problem_modules")  # noqa: B009
    if original is streamlit_patches.leave_modules_alone:  # an earlier test ran app.py in this process
        original = STREAMLITS_CLEAN_UP
    monkeypatch.setattr(script_runner, "_clean_problem_modules", original)
    monkeypatch.setattr(streamlit_patches, "_left_legacy_mode", False)
    return original


def open_first(page: str) -> AppTest:
    """A fresh server's first visitor opening `page` by its URL (AppTest starts in legacy pages/ mode too)."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page(page)
    return at.run()


def test_streamlit_calls_the_clean_up_hook_the_patch_replaces(monkeypatch):
    calls = []
    monkeypatch.setattr(script_runner, "_clean_problem_modules", lambda: calls.append(1))
    AppTest.from_string("import streamlit as st\nst.write('hello')").run()
    assert calls, "Streamlit no longer calls script_runner._clean_problem_modules after a run: re-check the patch"


def test_after_app_py_runs_keras_is_no_longer_reset_between_runs(fresh_server):
    at = open_first("pages/home.py")
    assert not at.exception, at.exception
    assert script_runner._clean_problem_modules is streamlit_patches.leave_modules_alone


FIRST_PAGES = [("pages/train.py", "Train a model"), ("pages/lesson.py", lesson_texts.TITLE)]


@pytest.mark.parametrize(("page", "title"), FIRST_PAGES)
def test_a_page_opened_first_leaves_legacy_mode_and_runs_through_app_py(fresh_server, page, title):
    at = open_first(page)
    assert not at.exception, at.exception
    assert PagesManager.uses_pages_directory is False
    # app.py ran (its Keras patch is in force) and routed to the page that was asked for.
    assert script_runner._clean_problem_modules is streamlit_patches.leave_modules_alone
    assert at.title[0].value == title


def test_without_route_through_app_the_first_page_would_skip_app_py(fresh_server, monkeypatch):
    """The control for the test above: it fails when route_through_app stops taking effect."""
    monkeypatch.setattr(streamlit_patches, "route_through_app", lambda: None)
    open_first("pages/train.py")
    assert PagesManager.uses_pages_directory is True, "still Streamlit's legacy pages/ mode"
    assert script_runner._clean_problem_modules is fresh_server, "app.py never ran"


def test_a_renamed_private_name_fails_loudly(monkeypatch):
    monkeypatch.delattr(script_runner, "_clean_problem_modules")
    with pytest.raises(StreamlitPatchError, match=r"_clean_problem_modules.*requirements\.txt"):
        keep_keras_state_between_reruns()
    monkeypatch.delattr(PagesManager, "uses_pages_directory")
    with pytest.raises(StreamlitPatchError, match="uses_pages_directory"):
        route_through_app()


def test_requirements_bound_streamlit_to_the_versions_the_patches_were_checked_against():
    line = next(line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("streamlit"))
    allowed = SpecifierSet(re.sub(r"^streamlit", "", line.split("#")[0]).strip())
    assert any(spec.operator == "<" for spec in allowed), "Streamlit needs an upper bound"
    oldest, newest = Version(streamlit_patches.CHECKED_VERSIONS[0]), Version(streamlit_patches.CHECKED_VERSIONS[-1])
    assert oldest in allowed and newest in allowed
    assert Version(f"{newest.major}.{newest.minor + 1}") not in allowed, "only minors the patches were checked on"
    assert Version(f"{oldest.major}.{oldest.minor - 1}") not in allowed
    assert Version(st.__version__) in allowed, f"installed Streamlit {st.__version__} is outside {allowed}"
