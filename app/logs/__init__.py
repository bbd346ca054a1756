"""Business logs: the port, the filters and the read handlers."""
