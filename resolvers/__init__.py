"""Resolver functions and DataLoaders, one module per domain."""
