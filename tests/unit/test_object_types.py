"""Object types stay the module's own instances across pickling (an import's rows are
converted in a child process, and code compares object types by identity)."""

from __future__ import annotations

import pickle

import pytest

from occur.domain.objects import COMPANY, CONTACT, DEAL, TICKET, ObjectType


@pytest.mark.parametrize("object_type", [CONTACT, COMPANY, DEAL, TICKET])
def test_an_unpickled_object_type_is_the_same_instance(object_type: ObjectType) -> None:
    assert pickle.loads(pickle.dumps(object_type)) is object_type
