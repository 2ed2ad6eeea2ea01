"""The pure core: documents, payload and fingerprint, versions, rows and the Arrow schema.

Nothing here imports deltalake or polars; every function can be tested without a table.
"""
