"""govbot actions package."""
