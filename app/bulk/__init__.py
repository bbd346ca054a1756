"""Bulk operations over the orders a filter matches: start, batches on the bulk queue, cancel."""
