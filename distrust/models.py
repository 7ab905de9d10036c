"""Models of the distrust app."""
