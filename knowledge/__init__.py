"""govbot knowledge package."""
