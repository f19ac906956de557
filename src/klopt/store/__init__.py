"""The store: the only package that talks SQL."""

from klopt.store.session import Store, insert_new, open_store

__all__ = ["Store", "insert_new", "open_store"]
