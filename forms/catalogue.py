"""Message catalogues: one JSON file per language in ``forms/messages/``.

Each catalogue maps an error code (``too_short``) to a template with named placeholders
(``Enter at least {limit} characters.``). A code may have variants, looked up first:
``too_small.exclusive`` for ``exclusiveMinimum``, ``too_large.data`` for answers over the
size limit, and ``<key>.one`` when the ``limit`` is exactly 1. The words that fill some
placeholders (the names of JSON types and formats, the word for "or") are translated in
the same file.

Templates are filled by ``fill``: one pass that replaces ``{name}`` for the names it is
given and leaves everything else alone. It never calls ``str.format`` (threat T5): a value
that itself contains ``{limit}`` or ``{0.__class__}`` is copied as text, not interpreted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

DEFAULT_LANGUAGE = "en"
LANGUAGES = ("en", "zh-Hans")
# Tags that name a language we carry under another name (BCP 47, compared case-insensitively).
_ALIASES = {"zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-sg": "zh-Hans", "zh-my": "zh-Hans"}
# Chinese written in Traditional characters: there is no catalogue for it yet, and the
# readers it names are not served by a fallback to Simplified, so they get English.
_NOT_ALIASED = ("zh-hant", "zh-tw", "zh-hk", "zh-mo")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The messages and words of one language."""

    language: str
    messages: Mapping[str, str]
    types: Mapping[str, str]
    formats: Mapping[str, str]
    words: Mapping[str, str]

    def template(self, code: str, variant: str = "", *, one: bool = False) -> str:
        """The most specific template for ``code``; English, then the code itself, if none."""
        keys = [f"{code}.{variant}"] if variant else []
        keys.append(code)
        if one:
            keys = [key for base in keys for key in (f"{base}.one", base)]
        for catalogue in (self, catalogue_for(DEFAULT_LANGUAGE)):
            for key in keys:
                if key in catalogue.messages:
                    return catalogue.messages[key]
        return code

    def either(self, names: list[str]) -> str:
        """``names`` joined the way this language says "a, b or c"."""
        if len(names) <= 1:
            return "".join(names)
        return self.words["list_separator"].join(names[:-1]) + self.words["or"] + names[-1]

    def listing(self, names: list[str]) -> str:
        """``names`` joined as a plain list ("a, b, c")."""
        return self.words["list_separator"].join(names)


@lru_cache(maxsize=256)
def language_for(tag: str) -> str:
    """The catalogue for a language tag: exact, then alias, then shorter prefixes, else English."""
    wanted = tag.strip().replace("_", "-").lower()
    if wanted.startswith(_NOT_ALIASED):
        return DEFAULT_LANGUAGE
    while wanted:
        for language in LANGUAGES:
            if language.lower() == wanted:
                return language
        if wanted in _ALIASES:
            return _ALIASES[wanted]
        wanted = wanted.rpartition("-")[0]
    return DEFAULT_LANGUAGE


@cache
def catalogue_for(language: str) -> Catalogue:
    """The catalogue of ``language`` (a name from ``LANGUAGES``), read once per process."""
    text = resources.files("forms").joinpath("messages", f"{language}.json").read_text(encoding="utf-8")
    data = json.loads(text)
    return Catalogue(language, data["messages"], data["types"], data["formats"], data["words"])


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace each ``{name}`` whose name is in ``values``; leave any other text as it is."""
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), template)
