"""The teacher page served at `/`: static files, no build step."""
