"""Small helpers shared by conftest.py and the test modules."""

from __future__ import annotations

import contextlib
import itertools
import secrets
import uuid
from collections.abc import Callable, Iterator

import gitlab
import gitlab.const
import pytest

# Root's token for this run; the server creates `root` with it on first start.
ROOT_TOKEN = "glpat-e2e" + secrets.token_hex(10)

# Short random tag of this run, so names stay unique even if a database were reused.
RUN_TAG = uuid.uuid4().hex[:6]
_counter = itertools.count(1)

GUEST = gitlab.const.AccessLevel.GUEST
REPORTER = gitlab.const.AccessLevel.REPORTER
DEVELOPER = gitlab.const.AccessLevel.DEVELOPER
MAINTAINER = gitlab.const.AccessLevel.MAINTAINER
OWNER = gitlab.const.AccessLevel.OWNER

# A project/group id that never exists in a test database (ids are allocated from 1 upwards).
MISSING_ID = 2_000_000_000


def unique_name(prefix: str) -> str:
    """A fresh name that is also a valid GitLab path and username (lowercase, digits, '-')."""
    return f"{prefix}-{RUN_TAG}-{next(_counter)}"


@contextlib.contextmanager
def raises_gitlab(
    exc_type: type[Exception], code: int, message: object
) -> Iterator[pytest.ExceptionInfo]:
    """Expects exactly `exc_type` with `response_code == code` and `error_message == message`.

    python-gitlab's `error_message` is the body's "error" key if present, else its "message"
    key, else the raw body text.
    """
    with pytest.raises(exc_type) as info:
        yield info
    exc = info.value
    assert type(exc) is exc_type, f"expected {exc_type.__name__}, got {type(exc).__name__}: {exc}"
    assert (exc.response_code, exc.error_message) == (code, message), f"body: {exc.response_body!r}"


def gitlab_outcome(call: Callable[[], object]) -> tuple[str, int | None, object]:
    """Runs `call`; returns ("ok", None, None) or (exception class name, response_code,
    error_message), so that several calls can be compared in one assert with a full diff."""
    try:
        call()
    except gitlab.GitlabError as exc:
        return (type(exc).__name__, exc.response_code, exc.error_message)
    return ("ok", None, None)
