"""Live notices across processes: the fan-out to local subscribers, its memory and Redis hubs."""
