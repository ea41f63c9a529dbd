"""The pieces behind `benchmarks/run.py`: measured processes, the simulator, the contenders, the report."""
