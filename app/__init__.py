"""The application layer: commands, handlers, read handlers, the bus, ports and cache decorators."""
