"""Queues from the operator's side: dead letters, their replay, and queue statistics."""
