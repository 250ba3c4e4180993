"""Build-time code of the guide (MkDocs hooks, generated reference pages); not part of the runtime."""
