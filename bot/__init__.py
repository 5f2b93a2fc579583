"""govbot bot package."""
