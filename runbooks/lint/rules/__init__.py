"""One module per lint rule: its ``RULE`` (id, severity, title, reason, fix) and its detection.

A content rule module has ``check(review) -> Iterator[Finding]`` and emits only its own id;
``runbooks.lint.registry`` lists the modules, ``runbooks.lint.command`` runs them.
"""
