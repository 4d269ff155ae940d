"""asv benchmarks of the recorder. Imports only ``recorder`` and this package's helpers."""
