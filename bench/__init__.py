"""govbot bench package."""
