"""Pure business rules of VisAPI: entities, events, specifications, normalisation. No I/O."""
