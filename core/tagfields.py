"""The tag fields as data: what ``core.model.Tags`` declares, read once for everyone else.

Contract: ``TAG_FIELDS`` lists every field of ``Tags`` in declaration order as a ``TagField``
(name, kind, vocabulary, default, meaning). The JSON Feed's ``_event``, the JSON Schema,
``famcal tag``'s output keys, the overrides file and the evaluation derive from it, so a new
tag field is declared once, in ``Tags``. ``TagField.parse`` reads a value given from outside
(an overrides file, a gold set) and raises ``ValueError`` naming the allowed values.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.model import TagKind, Tags


@dataclass(frozen=True, kw_only=True)
class TagField:
    name: str
    kind: TagKind
    vocabulary: type[StrEnum] | None
    default: Any
    doc: str
    evaluated: bool = True

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(v.value for v in self.vocabulary) if self.vocabulary else ()

    def schema(self) -> dict[str, Any]:
        """This field's JSON Schema (draft 2020-12), as ``Tags.to_dict`` writes it."""
        described: dict[str, Any] = {"description": self.doc}
        if self.kind is TagKind.FLAG:
            return {"type": "boolean", **described}
        if self.kind is TagKind.MAYBE:
            return {"type": ["boolean", "null"], **described}
        if self.kind is TagKind.NUMBER:
            return {"type": ["integer", "null"], "minimum": 0, **described}
        if self.kind is TagKind.TEXT:
            return {"type": ["string", "null"], **described}
        if self.kind is TagKind.SLUG:
            values: list[Any] = list(self.values)
            if self.default is None:
                return {"enum": [*values, None], **described}
            return {"enum": values, **described}
        item: dict[str, Any] = (
            {"enum": list(self.values)} if self.vocabulary else {"type": "string"}
        )
        return {"type": "array", "items": item, **described}

    def parse(self, value: Any) -> Any:
        """A value from a file, checked against the kind and vocabulary."""
        if self.kind in (TagKind.FLAG, TagKind.MAYBE):
            if isinstance(value, bool) or (value is None and self.kind is TagKind.MAYBE):
                return value
            raise ValueError(f"{self.name}: true or false")
        if self.kind is TagKind.NUMBER:
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                return value
            raise ValueError(f"{self.name}: a whole number >= 0")
        if self.kind in (TagKind.SLUGS, TagKind.TEXTS):
            if not isinstance(value, list | tuple):
                raise ValueError(f"{self.name}: a list")
            return tuple(self.one(v) for v in value)
        return self.one(value)

    def one(self, value: Any) -> Any:
        if self.vocabulary is None:
            if isinstance(value, str):
                return value
            raise ValueError(f"{self.name}: a string")
        try:
            return self.vocabulary(value)
        except ValueError:
            raise ValueError(
                f"{self.name}: unknown value {value!r} (one of {', '.join(self.values)})"
            ) from None

    def positive(self, value: Any) -> bool:
        """Whether a value says something (the positive class of precision and recall):
        a flag that is true, a slug other than the default, any number or text."""
        if self.kind in (TagKind.FLAG, TagKind.MAYBE):
            return value is True
        if self.kind is TagKind.SLUG and self.default is not None:
            return value not in (None, self.default, getattr(self.default, "value", None))
        return value is not None

    @property
    def is_list(self) -> bool:
        return self.kind in (TagKind.SLUGS, TagKind.TEXTS)


TAG_FIELDS: tuple[TagField, ...] = tuple(
    TagField(
        name=f.name,
        kind=f.metadata["kind"],
        vocabulary=f.metadata["vocabulary"],
        default=f.default if f.default is not dataclasses.MISSING else (),
        doc=f.metadata["doc"],
        evaluated=f.metadata["evaluated"],
    )
    for f in dataclasses.fields(Tags)
)
BY_NAME: dict[str, TagField] = {f.name: f for f in TAG_FIELDS}
TAG_NAMES: tuple[str, ...] = tuple(BY_NAME)
