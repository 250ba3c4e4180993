"""What a build prints: its own lines (what it executed or took from the cache) and real warnings.

Two third-party sources filled a warm build's output with hundreds of lines, both stopped here:

- ``galaxy.model.migrations.base`` and ``.dbscript`` call ``logging.basicConfig(level=DEBUG)`` when
  imported, which gives the root logger a handler at DEBUG: every library's debug line then printed
  (Python-Markdown alone wrote one ``DEBUG:MARKDOWN:`` line per extension per page). ``basicConfig``
  does nothing once the root logger has a handler, so the build gives it one first, at WARNING.
- MkDocs shows every DeprecationWarning as an INFO line with a traceback; those raised inside
  third-party packages (Cheetah and lib2to3, imported by Galaxy) are not this project's to fix. The
  ones this project's code triggers still show.
"""

from __future__ import annotations

import logging
import warnings

OWN_MODULES = r"(docs_build|runbooks)(\..*)?$"  # warnings attributed to this project's code are kept


def keep_third_party_quiet() -> None:
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("module", category=DeprecationWarning, module=OWN_MODULES)
