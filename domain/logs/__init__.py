"""Business log rules: what counts as PII and how it is redacted."""
