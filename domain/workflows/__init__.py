"""Workflows: definitions (schema and rules), placeholder rendering, runs and their steps."""
