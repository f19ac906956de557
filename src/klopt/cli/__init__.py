"""CLI commands, one module per area; each is thin over one library function."""
