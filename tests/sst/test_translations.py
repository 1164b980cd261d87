"""The Swedish catalogue is complete, consistent with the source and compiled; pages speak it.

Source strings are English, so English is complete by construction; these tests guard the
Swedish catalogue (locale/sv/LC_MESSAGES/django.po and .mo) and the templates' i18n markup.
To update the catalogue: ``manage.py makemessages -l sv --ignore=.venv --ignore=static
--ignore=staticfiles --ignore=var --no-obsolete``, translate, ``manage.py compilemessages``.
"""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation import override
from django.utils.translation.template import templatize

BASE_DIR = Path(settings.BASE_DIR)
MSGFMT = shutil.which("msgfmt")
XGETTEXT = shutil.which("xgettext")
PO_PATH = BASE_DIR / "locale" / "sv" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
# The same folders the makemessages command above leaves out.
IGNORED_DIRS = {".venv", "static", "staticfiles", "var", "node_modules", "__pycache__"}
# Deliberately static, bilingual HTML: it must render even when the template engine cannot.
STATIC_TEMPLATES = {"500.html"}
# Words that may appear untranslated in templates: the product name and the language
# switcher's endonyms (each language is named in its own language, in every interface).
ALLOWED_LITERALS = {"SST", "Svenska", "English"}

# Printf-style (%(name)s, %s, %d) and brace-style ({name}) placeholders.
PLACEHOLDER = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[sdifFeEgGxXor]|%[sdifr]|\{\w*\}")


@dataclass
class Entry:
    msgid: str
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: str = ""
    plurals: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def translations(self) -> list[str]:
        return (
            [self.plurals[i] for i in sorted(self.plurals)] if self.msgid_plural else [self.msgstr]
        )


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[1]), text[1:-1])


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """The blank-line separated blocks of a .po file, each with its first line's number."""
    blocks: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            blocks.append((number + 1, []))
        elif not blocks:
            blocks.append((number, [line]))
        else:
            blocks[-1][1].append(line)
    return [(start, lines) for start, lines in blocks if lines]


def parse_po(text: str) -> list[Entry]:
    """A tiny .po parser: entries (header included, msgid ""), flags, plural forms."""
    keyword = re.compile(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")")
    entries: list[Entry] = []
    for start, lines in _blocks(text):
        fields: dict[str, str] = {}
        flags: set[str] = set()
        current = None
        for line in lines:
            if line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            elif line.startswith("#"):
                current = None  # a comment, or an obsolete (#~) entry: not in the catalogue
            elif match := keyword.match(line):
                current = match[1]
                fields[current] = _unquote(match[2])
            elif line.startswith('"') and current:
                fields[current] += _unquote(line)
        if "msgid" not in fields:
            continue
        plurals = {int(k[7:-1]): v for k, v in fields.items() if k.startswith("msgstr[")}
        entries.append(
            Entry(
                msgid=fields["msgid"],
                msgctxt=fields.get("msgctxt"),
                msgid_plural=fields.get("msgid_plural"),
                msgstr=fields.get("msgstr", ""),
                plurals=plurals,
                flags=flags,
                line=start,
            )
        )
    return entries


@cache
def catalogue() -> tuple[dict[str, str], list[Entry]]:
    """The header's fields and the real entries of the Swedish .po file."""
    entries = parse_po(PO_PATH.read_text(encoding="utf-8"))
    header = next(e for e in entries if e.msgid == "" and e.msgctxt is None)
    fields = dict(line.split(":", 1) for line in header.msgstr.splitlines() if ":" in line)
    return {k.strip(): v.strip() for k, v in fields.items()}, [
        e for e in entries if e is not header
    ]


def describe(entry: Entry) -> str:
    context = f" [{entry.msgctxt}]" if entry.msgctxt else ""
    return f"django.po:{entry.line}{context} {entry.msgid!r}"


# (a) The .po file: complete, no fuzzy guesses, placeholders kept --------------------------


def test_header_declares_swedish_utf8_and_two_plural_forms():
    header, _entries = catalogue()
    assert header.get("Language") == "sv"
    assert "charset=UTF-8" in header.get("Content-Type", "")
    assert header.get("Plural-Forms", "").replace(" ", "") == "nplurals=2;plural=(n!=1);"


def test_every_entry_is_translated():
    _header, entries = catalogue()
    assert entries, "the Swedish catalogue is empty"
    untranslated = [describe(e) for e in entries if not all(s.strip() for s in e.translations)]
    plural_forms = [describe(e) for e in entries if e.msgid_plural and sorted(e.plurals) != [0, 1]]
    assert not untranslated, "untranslated: " + "; ".join(untranslated)
    assert not plural_forms, "plural entries need msgstr[0] and msgstr[1]: " + "; ".join(
        plural_forms
    )


@pytest.mark.skipif(MSGFMT is None, reason="msgfmt (gettext) is not installed")
def test_msgfmt_accepts_the_catalogue():
    """What compilemessages runs: format strings (python-format) must agree, among others."""
    result = subprocess.run(  # noqa: S603 (a fixed command, no shell)
        [str(MSGFMT), "--check", "-o", "/dev/null", str(PO_PATH)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_no_fuzzy_entries():
    _header, entries = catalogue()
    fuzzy = [describe(e) for e in entries if "fuzzy" in e.flags]
    assert not fuzzy, "fuzzy (unchecked) translations: " + "; ".join(fuzzy)


def test_placeholders_match():
    _header, entries = catalogue()
    wrong = []
    for entry in entries:
        sources = [entry.msgid, entry.msgid_plural] if entry.msgid_plural else [entry.msgid]
        for index, translated in enumerate(entry.translations):
            source = sources[min(index, len(sources) - 1)]
            if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(translated)):
                wrong.append(f"{describe(entry)} -> {translated!r}")
    assert not wrong, "placeholders differ: " + "; ".join(wrong)


# Words spelt the same in Swedish and English (msgstr == msgid is right for these).
SAME_IN_BOTH = {
    "Administration",
    "Filter",
    "Import",
    "Mentor",
    "Organisation",
    "Period",
    "Status",
    "System",
    "Trend %(term)s",
    "import",
    "mentor",
    "status",
    "person",
    "Version",
    "Version %(number)s",
    "Excel (XLSX)",
}


def test_text_is_swedish_not_copied_english():
    """A msgstr equal to its msgid is a forgotten translation, except for shared words."""
    _header, entries = catalogue()
    copied = [
        describe(e)
        for e in entries
        if e.msgstr == e.msgid
        and e.msgid not in SAME_IN_BOTH
        and re.search(r"[a-z]{3}", PLACEHOLDER.sub("", e.msgid))
    ]
    assert not copied, "msgstr copied from msgid: " + "; ".join(copied)


# The agreed Swedish terms (DOMAIN.md vocabulary), checked where the msgid occurs.
GLOSSARY = {
    "Mentor": "Mentor",
    "Principal": "Rektor",
    "School counsellor": "Skolkurator",
    "Special educator": "Specialpedagog",
    "School nurse": "Skolsköterska",
    "School psychologist": "Skolpsykolog",
    "School social worker": "Skolsocionom",
    "Referral forum member": "Ledamot i remissforum",
    "Coordinator": "Samordnare",
    "Manager": "Chef",
    "Administrator": "Administratör",
    "Municipality": "Kommun",
    "District": "Stadsdel",
    "Mentor group": "Mentorsgrupp",
    "Class": "Klass",
    "Grade": "Årskurs",
    "Student": "Elev",
    "Students": "Elever",
    "Guardians": "Vårdnadshavare",
    "has custody": "har vårdnaden",
    "Personal identity number": "Personnummer",
    "Coordination number": "Samordningsnummer",
    "Audit log": "Granskningslogg",
    "My desk": "Mitt skrivbord",
    "Sign in": "Logga in",
    "Sign out": "Logga ut",
    "Two-factor authentication": "Tvåfaktorsautentisering",
    "Preschool class (F)": "Förskoleklass (F)",
    "Girl": "Flicka",
    "Boy": "Pojke",
    "Other / not recorded": "Annat / ej registrerat",
    "school unit code": "skolenhetskod",
    "Referrals": "Uppdragsförfrågningar",
    "Action plans": "Handlingsplaner",
    "Follow-up": "Uppföljning",
}


def test_glossary_terms():
    _header, entries = catalogue()
    by_msgid = {e.msgid: e.msgstr for e in entries if e.msgctxt is None and not e.msgid_plural}
    wrong = {
        msgid: (by_msgid[msgid], wanted)
        for msgid, wanted in GLOSSARY.items()
        if msgid in by_msgid and by_msgid[msgid] != wanted
    }
    assert not wrong, f"terms differ from the glossary (got, wanted): {wrong}"


# Every marked string of the source is in the catalogue (xgettext, as makemessages does) ----


def _source_files() -> list[Path]:
    found = []
    for path in sorted(BASE_DIR.rglob("*")):
        parts = path.relative_to(BASE_DIR).parts
        if any(p in IGNORED_DIRS or p.startswith(".") for p in parts[:-1]) or parts[0] == "locale":
            continue
        if (
            path.is_file()
            and path.suffix in {".py", ".html", ".txt"}
            and not path.name.startswith(".")
        ):
            found.append(path)
    return found


@pytest.mark.skipif(XGETTEXT is None, reason="xgettext (gettext) is not installed")
def test_catalogue_covers_every_marked_string(tmp_path):
    inputs = []
    for path in _source_files():
        if path.suffix == ".py":
            inputs.append(str(path))
            continue
        text = path.read_text(encoding="utf-8")
        if "i18n" not in text:
            continue
        target = tmp_path / (path.relative_to(BASE_DIR).as_posix().replace("/", "__") + ".py")
        target.write_text(templatize(text, origin=str(path)), encoding="utf-8")
        inputs.append(str(target))
    keywords = [
        "gettext_noop",
        "gettext_lazy",
        "ngettext_lazy:1,2",
        "pgettext:1c,2",
        "npgettext:1c,2,3",
        "pgettext_lazy:1c,2",
        "npgettext_lazy:1c,2,3",
    ]
    result = subprocess.run(  # noqa: S603 (a fixed command, no shell)
        [str(XGETTEXT), "-d", "django", "--language=Python", "--from-code=UTF-8", "--output=-"]
        + [f"--keyword={k}" for k in keywords]
        + inputs,
        capture_output=True,
        text=True,
        check=True,
    )
    marked = {(e.msgctxt, e.msgid) for e in parse_po(result.stdout) if e.msgid}
    _header, entries = catalogue()
    known = {(e.msgctxt, e.msgid) for e in entries}
    missing = sorted(marked - known, key=str)
    assert not missing, (
        "strings marked for translation but not in the Swedish catalogue (run makemessages "
        f"and translate them): {missing}"
    )


# (b) The compiled .mo says what the .po says ----------------------------------------------


def test_mo_is_compiled_from_the_po():
    assert MO_PATH.exists(), "run: manage.py compilemessages -l sv --ignore=.venv"
    with MO_PATH.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    _header, entries = catalogue()
    stale = []
    for e in entries:
        if e.msgid_plural:
            got = [
                compiled.npgettext(e.msgctxt, e.msgid, e.msgid_plural, n)
                if e.msgctxt
                else compiled.ngettext(e.msgid, e.msgid_plural, n)
                for n in (1, 2)
            ]
        else:
            got = [
                compiled.pgettext(e.msgctxt, e.msgid) if e.msgctxt else compiled.gettext(e.msgid)
            ]
        if got != e.translations:
            stale.append(describe(e))
    assert not stale, "the .mo is out of date (run compilemessages) for: " + "; ".join(stale)


# (c) Pages render in Swedish by default, in English on request ----------------------------


@pytest.mark.django_db
def test_login_page_is_swedish_by_default(client):
    response = client.get("/logga-in/")
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="sv"' in page
    assert "Logga in" in page
    assert "Användarnamn" in page and "Lösenord" in page
    assert "Sign in" not in page


@pytest.mark.django_db
def test_login_page_in_english_from_accept_language(client):
    response = client.get("/logga-in/", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert '<html lang="en"' in page
    assert "Sign in" in page and "Username" in page
    assert "Logga in" not in page


@pytest.mark.django_db
def test_language_switch_persists(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/logga-in/"})
    assert response.status_code == 302
    page = client.get("/logga-in/").content.decode()
    assert '<html lang="en"' in page and "Sign in" in page
    client.post("/i18n/setlang/", {"language": "sv", "next": "/logga-in/"})
    page = client.get("/logga-in/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="sv"' in page and "Logga in" in page


def test_model_labels_follow_the_language():
    from sst.models import Role

    with override("sv"):
        assert str(Role.PRINCIPAL.label) == "Rektor"
    with override("en"):
        assert str(Role.PRINCIPAL.label) == "Principal"


# (d) Templates: visible text is marked for translation ------------------------------------


def _templates() -> list[Path]:
    roots = [BASE_DIR / "templates"] + [
        p for p in BASE_DIR.glob("*/templates") if p.parts[-2] not in IGNORED_DIRS
    ]
    return sorted(p for root in roots for p in root.rglob("*") if p.suffix in {".html", ".txt"})


# Not prose: comments, scripts, styles and literal values such as CSV column names in <code>.
_NON_TEXT = re.compile(
    r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}|\{#.*?#\}"
    r"|<(script|style|code|kbd|samp)\b.*?</\1\s*>|<!--.*?-->",
    re.S | re.I,
)
_TRANSLATED = re.compile(
    r"\{%\s*blocktrans(?:late)?\b.*?\{%\s*endblocktrans(?:late)?\s*%\}"
    r"|\{%\s*trans(?:late)?\s.*?%\}",
    re.S,
)
_TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)
_HTML_TAG = re.compile(r"<[^>]*>", re.S)
_VISIBLE_ATTRIBUTE = re.compile(
    r"""\b(?:aria-label|title|placeholder|alt|aria-description)\s*=\s*(["'])(.*?)\1""", re.S
)
_WORD = re.compile(r"[A-Za-zÅÄÖåäöÉé]{2,}")


def _blank(match: re.Match) -> str:
    """Replace a match by blanks, keeping line numbers."""
    return re.sub(r"[^\n]", " ", match[0])


def _untranslated_words(text: str) -> list[tuple[int, str]]:
    """Words a reader would see that no translate tag covers, with their line numbers."""
    text = _NON_TEXT.sub(_blank, text)
    text = _TRANSLATED.sub(_blank, text)
    found = []
    for attribute in _VISIBLE_ATTRIBUTE.finditer(text):
        value = _TAG.sub(" ", attribute[2])
        found += [(attribute.start(2), w) for w in _WORD.findall(value)]
    text = _HTML_TAG.sub(_blank, _TAG.sub(_blank, text))
    found += [(m.start(), m[0]) for m in _WORD.finditer(text)]
    return [
        (text.count("\n", 0, position) + 1, word)
        for position, word in sorted(found)
        if word not in ALLOWED_LITERALS
    ]


def _visible_words(text: str) -> bool:
    text = _NON_TEXT.sub(" ", text)
    text = _HTML_TAG.sub(" ", _TAG.sub(" ", text))
    return bool(_WORD.search(re.sub(r"&#?\w+;", " ", text)))


def test_templates_with_text_load_i18n():
    missing = []
    for path in _templates():
        if path.name in STATIC_TEMPLATES:
            continue
        text = path.read_text(encoding="utf-8")
        uses_tags = re.search(r"\{%\s*(?:trans|translate|blocktrans|blocktranslate)\b", text)
        if (_visible_words(text) or uses_tags) and not re.search(
            r"\{%\s*load\s[^%]*\bi18n\b", text
        ):
            missing.append(str(path.relative_to(BASE_DIR)))
    assert not missing, "templates with visible text but no {% load i18n %}: " + ", ".join(missing)


def test_templates_have_no_hard_coded_text():
    found = []
    for path in _templates():
        if path.name in STATIC_TEMPLATES:
            continue
        text = re.sub(r"&#?\w+;", lambda m: " " * len(m[0]), path.read_text(encoding="utf-8"))
        for line, word in _untranslated_words(text):
            found.append(f"{path.relative_to(BASE_DIR)}:{line} {word!r}")
    assert not found, "visible text outside {% translate %}: " + "; ".join(found)
