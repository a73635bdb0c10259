"""kvgraph: a typed GraphQL gateway over a Supabase-style key-value table."""

__version__ = "0.1.0"
