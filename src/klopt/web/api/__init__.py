"""``/api/v1``: the same JSON the CLI prints, for programs (one module per area)."""
