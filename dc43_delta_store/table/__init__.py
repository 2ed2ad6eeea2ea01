"""The Delta table behind a store: locations, catalogs, reads, writes, upkeep and history.

Everything that touches deltalake, polars or an object store lives here.
"""
