"""``python -m docs_build``: execute the runbooks (or take them from the cache) and write the generated pages.

``mkdocs build --strict`` runs the same step first, so running it alone is never required.
"""

import sys

from docs_build.site_build.pipeline import prepare


def main() -> int:
    from runbooks.errors import RunbookError

    try:
        prepare(say=lambda line: print(line, flush=True))
    except RunbookError as error:
        print(f"docs build: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
