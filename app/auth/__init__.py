"""Authentication and authorisation: key and user handlers, credential checks, their ports."""
