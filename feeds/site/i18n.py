"""The site's languages: Jinja2 environments with gettext catalogues from the repository.

Contract: ``LANGUAGES`` lists the interface languages, German first (German is the source
language: its msgids are the German texts, so German needs no catalogue). ``environment(lang)``
is a Jinja2 environment over ``data/site/templates`` with autoescaping for every template and
the i18n extension bound to ``data/site/locale/<lang>/LC_MESSAGES/site.po``, compiled in memory
(no binary .mo files in the repository). ``_("… %(n)s …", n=…)`` formats; translations and
values alike are autoescaped. Cached per language.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from functools import cache

import jinja2
from babel.messages import mofile, pofile

from core.paths import data_file


@dataclass(frozen=True, kw_only=True)
class Language:
    code: str
    name: str  # in the language itself, for the language links
    rtl: bool = False


LANGUAGES: tuple[Language, ...] = (
    Language(code="de", name="Deutsch"),
    Language(code="en", name="English"),
    Language(code="tr", name="Türkçe"),
    Language(code="ar", name="العربية", rtl=True),
    Language(code="uk", name="Українська"),
)
SOURCE_LANGUAGE = "de"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    if lang == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    path = data_file("site", "locale", lang, "LC_MESSAGES", "site.po")
    with path.open("rb") as handle:
        catalog = pofile.read_po(handle, locale=lang)
    compiled = io.BytesIO()
    mofile.write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@cache
def environment(lang: str = SOURCE_LANGUAGE) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(data_file("site", "templates")),
        autoescape=True,  # every template, whatever its name
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        # The templates do not change while a publish runs: no stat of each template file
        # for every page (three per event page).
        auto_reload=False,
    )
    catalogue = translations(lang)

    def gettext(message: str, **variables: object) -> str:
        text = catalogue.gettext(message)
        return text % variables if variables else text

    def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
        return catalogue.ngettext(singular, plural, n) % {"num": n, **variables}

    # Plain callables, not the extension's "newstyle" wrappers: those double the cost of a
    # 20,000-page publish. The text they return is escaped like any other value.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=False
    )
    return env
