"""Browser and page tests for the web chat."""
