"""A helper module that sits next to revisions but is not one."""


def helper():
    return 42
