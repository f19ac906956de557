"""The pages people use, one module per area (each has its ``router``)."""
