"""Workflows: definitions (CRUD, validation), runs (start, execute, cancel) and triggers."""
