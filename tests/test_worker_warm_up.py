"""The Galaxy worker started ahead of the first request (its import overlaps the pre-flight).

The server a warm-up starts is the one the first request uses, and when its client closes it,
it leaves without the interpreter's teardown, having delivered every reply (exit code 0).
"""

from __future__ import annotations

from runbooks.galaxy import client, commands


def test_the_first_request_uses_the_warmed_up_server_which_leaves_cleanly_when_closed(sqlite_db):
    db = sqlite_db("25.0")
    commands.warm_up()
    server = client._servers[None]
    assert server.process.poll() is None  # running before anything was asked
    output = commands.run_dbscript(db, "version")
    assert client._servers[None] is server, "the request started a second server"
    assert "(gxy) (head)" in output.stdout and "(tsi) (head)" in output.stdout, output.stdout
    server.process.stdin.close()
    assert server.process.wait(timeout=60) == 0
    client._servers.pop(None, None)
