"""`make faults`: the production-mode fault run (tests/faults/run.py); never collected by pytest."""
