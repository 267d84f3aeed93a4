"""Sphinx configuration of the latticeclosure documentation.

Build (warnings are errors)::

    .venv/bin/python -m sphinx -W --keep-going -b html docs docs/_build/html

The Markdown pages stay Markdown (myst-parser); the API reference is generated from the numpy-style
docstrings of the public modules of ``latticeclosure`` (autosummary + autodoc + numpydoc).
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _installed_version

sys.path.insert(0, os.path.abspath(".."))

project = "latticeclosure"
author = "latticeclosure developers"
copyright = "2026, latticeclosure developers"
try:
    release = _installed_version("latticeclosure")
except PackageNotFoundError:  # building from a checkout that is not installed
    release = "unknown"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "example-plugin", "examples", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]

# Markdown: $...$ maths as on GitHub, headings get anchors so that page.md#section links resolve.
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# API reference: one page per public module, generated at build time from the docstrings.
autosummary_generate = True
autosummary_imported_members = False
# ignore-module-all: a package re-exporting names of its modules does not document them twice.
autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
autodoc_typehints = "none"  # numpydoc shows the types of the Parameters sections
# A method without a docstring of its own is not given its base class's (e.g. of the standard library).
autodoc_inherit_docstrings = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "pydata_sphinx_theme"
html_title = f"latticeclosure {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
