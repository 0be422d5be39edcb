"""The README's spec format reference is generated from the spec models and documents every field."""

from __future__ import annotations

import pytest

from studio.spec import reference
from studio.spec.models import ProjectFile
from tests.conftest import REPO


def test_the_readme_spec_reference_is_the_spec_models():
    readme = (REPO / "README.md").read_text()
    assert reference.spec_reference() in readme, (
        "README's spec reference is stale: paste studio.spec.reference.spec_reference()")


def test_every_section_and_field_of_the_spec_is_in_the_reference():
    text = reference.spec_reference()
    for path, model in reference._sections(ProjectFile, ""):
        assert (f"**`{path}`**" if path else "**top level**") in text
        for name in model.model_fields:
            assert f"| `{name}` |" in text, f"{path}.{name}"
    assert "**`scenes[].shots[].dialogue[]`**" in text and "**`characters[].appearance`**" in text


def test_a_field_without_a_meaning_is_refused_by_name(monkeypatch):
    monkeypatch.delitem(reference.MEANINGS, "CharacterSpec.target_images")
    with pytest.raises(LookupError, match="CharacterSpec.target_images has no meaning"):
        reference.spec_reference()


def test_types_defaults_and_bounds_come_from_the_models():
    rows = {line.split(" | ")[0]: line for line in reference.spec_reference().splitlines()}
    assert rows["| `target_images`"] == (
        "| `target_images` | integer | `20` | ≥ 0, ≤ 10000 | approved images wanted in the dataset; at the target "
        "it is complete and ready for training |")
    assert "| `transition` | `cut` \\| `fade` \\| `dissolve` \\| `wipe` | `cut` |" in rows["| `transition`"]
    assert "| **required** | not blank, ≤ 20,000 characters |" in rows["| `design_prompt`"]
    # autonomy's None means "keep the current value": the default shown is a new project's
    assert rows["| `batch_size`"].startswith("| `batch_size` | integer | `3` | ≥ 1, ≤ 64 |")
