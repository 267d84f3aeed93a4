"""Rate constants from data (placeholder, filled below)."""
