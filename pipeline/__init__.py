"""The Dagster layer. Every door into a build (the CLI, the Dagster code server and run
workers, a step's own process) imports this package first, so process-wide settings live here."""

from pipeline.engine import prefer_in_memory_engine
from pipeline.memory import fixed_malloc_thresholds

fixed_malloc_thresholds()
prefer_in_memory_engine()
