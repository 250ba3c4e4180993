"""The tmpfs attacks (full disk, read-only folder) skip where they cannot mount, but never under CI=true."""

from __future__ import annotations

import mounts
import pytest


@pytest.mark.parametrize("in_ci, outcome", [(True, pytest.fail.Exception), (False, pytest.skip.Exception)])
def test_a_mount_that_fails_fails_under_ci_and_skips_elsewhere(in_ci, outcome, tmp_path, monkeypatch):
    monkeypatch.setattr(mounts, "IN_CI", in_ci)
    with pytest.raises(outcome, match="cannot mount a tmpfs here"):
        mounts._mount("-t", "tmpfs", "tmpfs", str(tmp_path / "no such folder"))  # mount itself refuses
