"""git-sit: SIT's serverless issue records, stored in and read from git."""

__version__ = "0.1.0"
