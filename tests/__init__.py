"""govbot tests package."""
