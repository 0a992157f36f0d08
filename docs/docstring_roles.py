"""A Griffe extension for the API pages (mkdocs.yml loads it; it is not a page).

inkcore's docstrings name other objects the Sphinx way (``:func:`inkcore.sampling.generate```)
and open literal blocks with ``::``. mkdocstrings renders docstrings as Markdown, where
both would show as stray punctuation, so each docstring is rewritten before rendering:
a role becomes inline code of the name it names, and ``::`` a plain colon (the indented
block after it is already a Markdown code block).
"""
from __future__ import annotations

import re

from griffe import Extension

ROLE = re.compile(r":(?:py:)?(?:func|meth|class|mod|data|attr|exc|obj|const):`(~?)([^`]+)`")
LITERAL_MARK = re.compile(r"(\S)::[ \t]*$|^[ \t]*::[ \t]*$", re.MULTILINE)


def markdown_of(docstring: str) -> str:
    def code(match: re.Match) -> str:
        short, name = match.groups()
        return f"`{name.rsplit('.', 1)[-1] if short else name}`"

    text = ROLE.sub(code, docstring)
    return LITERAL_MARK.sub(lambda match: f"{match.group(1)}:" if match.group(1) else "", text)


class SphinxRolesAsCode(Extension):
    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown_of(obj.docstring.value)
