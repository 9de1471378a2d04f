"""The Samesay HTTP service and the `samesay` command line."""
