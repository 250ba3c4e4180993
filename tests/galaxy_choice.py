"""A bare checkout tree and the database URLs Galaxy's own scripts would choose in it, for the tests
that compare this tool's reading of a checkout's configuration with Galaxy's."""

from __future__ import annotations

from pathlib import Path

GXY, TSI = 0, 1  # get_configuration_from_file returns (gxy config, tsi config, auto-migrate)


def bare_checkout(tmp_path: Path, env, monkeypatch, variables) -> Path:
    """``lib/galaxy/model`` (this Galaxy's code) and an empty ``config/``; ``variables`` unset."""
    root = tmp_path / "galaxy"
    (root / "lib" / "galaxy").mkdir(parents=True)
    (root / "lib" / "galaxy" / "model").symlink_to(env.migrations_dir.parent)
    (root / "config").mkdir()
    for name in variables:
        monkeypatch.delenv(name, raising=False)
    return root


def galaxys_url(root: Path, monkeypatch, which: int) -> str:
    """The URL Galaxy's own scripts would use for ``which`` (GXY or TSI), run from ``root`` as from a
    source checkout."""
    import galaxy.util.properties as properties
    from galaxy.model.migrations.scripts import get_configuration_from_file
    from sqlalchemy.engine import make_url

    monkeypatch.chdir(root)
    monkeypatch.setattr(properties, "running_from_source", True)
    url = make_url(get_configuration_from_file(str(root))[which].url)
    if url.get_backend_name() == "sqlite" and not Path(url.database).is_absolute():
        url = url.set(database=str((root / url.database).resolve()))
    return url.render_as_string(hide_password=False)
