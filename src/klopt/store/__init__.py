"""The store: the only package that talks SQL."""

from klopt.store.session import Store, open_store

__all__ = ["Store", "open_store"]
