"""The editorial workflow: drafts, and later replies and publishing."""
