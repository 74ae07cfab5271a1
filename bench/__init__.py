"""The benchmark harness: `make bench` (python -m bench.run) and its floor app (bench.floor)."""
