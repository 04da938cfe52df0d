"""The measuring side of the benchmark: environs, timers, child processes, reports."""
