"""govbot voice package."""
