"""A customer's data: everything stored about a person exported as one document, or erased."""
