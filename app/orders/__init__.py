"""Orders use cases: intake and processing commands, read handlers, the jobs an order causes."""
