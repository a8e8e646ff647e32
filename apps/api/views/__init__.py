"""API views: one small view per operation. Each reads through selectors and writes through services, as
the pages do, so every access rule lives in one place; errors are mapped by `apps.api.exceptions`."""
