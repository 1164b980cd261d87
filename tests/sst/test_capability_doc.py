"""docs/ARCHITECTURE.md shows the capability table the code has (re-rendered and compared)."""

from io import StringIO

from django.core.management import call_command

from sst import capabilities
from sst.management.commands.capabilities import architecture_doc, with_table


def test_the_command_prints_the_table():
    out = StringIO()
    call_command("capabilities", "--markdown", stdout=out)
    assert out.getvalue() == capabilities.as_markdown()
    assert "| `work_cases` –" in out.getvalue()


def test_the_architecture_doc_has_the_current_table():
    document = architecture_doc().read_text()
    assert with_table(document) == document, (
        "docs/ARCHITECTURE.md's capability table differs from sst/capabilities.py: "
        "run `manage.py capabilities --write`"
    )


def test_the_table_is_in_english_whatever_the_language():
    from django.utils import translation

    with translation.override("sv"):
        assert "See the students of the school" in capabilities.as_markdown()
