"""The GraphQL layer: schema, types, inputs, resolvers, per-request loaders, errors, extensions."""
