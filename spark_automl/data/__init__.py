"""Ingest, profile, guardrails and validation splits: everything before featurization."""
