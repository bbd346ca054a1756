"""Persisted documents: GraphQL documents registered by automatic persisted queries (APQ) or
pushed from a client's build manifest (trusted documents)."""
