"""The API's request bodies refuse what the services would refuse, so a client gets
the documented validation error (schemathesis once found a blank assignee that
passed the schema and was refused with a bare error)."""

from __future__ import annotations

import pydantic
import pytest

from ivr.web.api import AssignIn, CloseIn, NoteIn


@pytest.mark.parametrize("blank", [" ", "  \t", "\n", "\x1d", " \x1c\x1f "])
def test_blank_text_is_refused_by_the_schema(blank: str) -> None:
    for model, field in ((NoteIn, "text"), (AssignIn, "assignee"), (CloseIn, "outcome")):
        with pytest.raises(pydantic.ValidationError):
            model.model_validate({field: blank})


def test_text_with_spaces_around_it_is_accepted() -> None:
    assert AssignIn.model_validate({"assignee": " officer-1 "}).assignee == " officer-1 "
    assert NoteIn.model_validate({"text": "called back\n"}).text == "called back\n"
