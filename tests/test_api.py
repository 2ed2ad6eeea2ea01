"""Public API hygiene: explicit exports, one exception base, documented methods."""

from __future__ import annotations

import inspect
import types

import dc43_delta_store
from dc43_delta_store import errors


def test_all_lists_exactly_the_public_names() -> None:
    for name in dc43_delta_store.__all__:  # first: some names are imported on first use
        assert hasattr(dc43_delta_store, name), name
    public = {
        name
        for name, value in vars(dc43_delta_store).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public | {"__version__"} == set(dc43_delta_store.__all__)


def test_every_error_derives_from_the_package_base() -> None:
    classes = [
        value
        for value in vars(errors).values()
        if inspect.isclass(value) and issubclass(value, BaseException)
    ]
    assert len(classes) >= 8
    assert all(issubclass(cls, errors.ContractStoreError) for cls in classes)
    assert issubclass(errors.ContractNotFoundError, KeyError)
    assert issubclass(errors.InvalidContractError, ValueError)
    for cls in classes:
        assert cls.__name__ in errors.__doc__, f"{cls.__name__} is missing from the error tree"


def test_public_methods_are_documented() -> None:
    store = dc43_delta_store.DeltaContractStore
    for name, member in vars(store).items():
        if not name.startswith("_") and callable(member):
            assert inspect.getdoc(member), name
