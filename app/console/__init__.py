"""The web console (GET /console): static HTML, CSS and plain JS modules served by the app."""
