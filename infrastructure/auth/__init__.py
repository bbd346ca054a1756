"""Adapters of the access ports: argon2 secret hashing and JWT verification."""
