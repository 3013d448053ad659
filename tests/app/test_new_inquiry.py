"""AppTest of the "New inquiry" page: ask, keep/drop, save, export; bad input shows one error.

    python -m pytest tests/app/test_new_inquiry.py -q
"""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP

PAGE = str(APP / "screens" / "new_inquiry.py")
pytestmark = pytest.mark.slow


def test_ask_keep_drop_save_and_export(app_home):
    from claimtrack.graph.store import Store

    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, [e.message for e in at.exception]
    at.text_input(key="new_inquiry_question").set_value("Is pass@k narrowing an artefact of the metric?")
    at.text_input(key="new_inquiry_id").set_value("app-passk")
    at.button[0].click().run()  # the form's submit button
    assert not at.exception and not at.error, [e.value for e in at.error]
    boxes = {c.key: c for c in at.checkbox}
    assert "keep_rl-narrows-pass-at-k" in boxes and "keep_invisible-leash" in boxes
    boxes["keep_invisible-leash"].uncheck()
    save = next(b for b in at.button if "Save inquiry app-passk" in b.label)
    save.click().run()
    assert not at.exception and "Saved inquiry app-passk" in at.success[0].value
    store = Store.open(app_home / "claimtrack.db", create=False)
    inq = store.inquiry("app-passk")
    assert inq and "rl-narrows-pass-at-k" in inq.claims and "invisible-leash" not in inq.claims
    labels = [b.label for b in at.get("download_button")]
    assert len(labels) == 4, labels
    assert at.selectbox(key="new_inquiry_export_id").value == "app-passk"  # the new one, not the seed
    # the same question again: a choice in the app (open it, or a new id), not a CLI hint
    at.button[0].click().run()
    assert not at.error, [e.value for e in at.error]
    assert "exists already" in at.warning[0].value and "--id" not in at.warning[0].value
    assert at.button(key="new_inquiry_open_existing") and at.text_input(key="new_inquiry_new_id").value == "app-passk-2"
    at.button(key="new_inquiry_retry").click().run()
    assert not at.error and any("Save inquiry app-passk-2" in b.label for b in at.button)


def test_bad_question_is_one_error_and_saves_nothing(app_home):
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.text_input(key="new_inquiry_question").set_value("  ")
    at.button[0].click().run()
    assert not at.exception and len(at.error) == 1 and "empty question" in at.error[0].value
    assert not at.checkbox
