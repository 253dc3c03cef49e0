"""Selector options of the sources file, read one way for every source type (contract.md).

Contract:
- A selector option is Scrapy's CSS dialect (parsel: CSS plus ``::text`` and
  ``::attr(name)``) and may list alternatives separated by commas; the first alternative that
  yields something wins (per item, when applied inside one item).
- An alternative without a pseudo-element selects an *element*: its ``href`` is used where a
  link is wanted (``link=True``; the first link inside it when it has none of its own), its
  whole text otherwise. ``::attr(name)`` gives that attribute; ``::text`` the element's own
  text nodes, joined.
- ``value(scope, spec, link=…)`` gives the first value (whitespace collapsed) or None;
  ``values(scope, spec, link=…)`` every value of the first alternative that yields any (link
  lists on a listing page); ``elements(scope, spec)`` the elements of the first alternative
  that matches any (the items of a listing).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from cssselect import parse
from parsel import Selector, SelectorList
from parsel.csstranslator import HTMLTranslator


@dataclass(frozen=True, kw_only=True)
class Alternative:
    xpath: str
    pseudo: str | None  # "text", "attr" or None (an element)


@cache
def alternatives(spec: str) -> tuple[Alternative, ...]:
    """The comma-separated alternatives of ``spec``, each as the XPath parsel would run."""
    translator = HTMLTranslator()
    found: list[Alternative] = []
    for parsed in parse(spec):
        pseudo = parsed.pseudo_element
        name = pseudo if isinstance(pseudo, str) or pseudo is None else pseudo.name
        found.append(
            Alternative(
                xpath=translator.selector_to_xpath(
                    parsed, prefix="descendant-or-self::", translate_pseudo_elements=True
                ),
                pseudo=name,
            )
        )
    return tuple(found)


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _element_value(element: Selector, link: bool) -> str:
    if link:
        return _clean(element.attrib.get("href") or element.xpath(".//a/@href").get())
    return _clean(element.xpath("string()").get())


def _all(scope: Selector | SelectorList[Selector], one: Alternative, link: bool) -> list[str]:
    nodes = scope.xpath(one.xpath)
    if one.pseudo == "text":
        # "h3::text": the element's own text nodes, one value per element.
        joined = _clean(" ".join(nodes.getall()))
        return [joined] if joined else []
    if one.pseudo is not None:
        texts = (_clean(v) for v in nodes.getall())
    else:
        texts = (_element_value(node, link) for node in nodes)
    return [t for t in texts if t]


def value(scope: Selector | SelectorList[Selector], spec: str, *, link: bool = False) -> str | None:
    for one in alternatives(spec):
        found = _all(scope, one, link)
        if found:
            return found[0]
    return None


def values(scope: Selector | SelectorList[Selector], spec: str, *, link: bool = True) -> list[str]:
    for one in alternatives(spec):
        found = _all(scope, one, link)
        if found:
            return list(dict.fromkeys(found))
    return []


def elements(scope: Selector | SelectorList[Selector], spec: str) -> SelectorList[Selector]:
    for one in alternatives(spec):
        nodes = scope.xpath(one.xpath)
        if nodes:
            return nodes
    return SelectorList()
