"""Orders: the storefront order entity, its normalisation rules and its query specifications."""
