"""Alembic's environment script for erlen-migrate, reached through ``script_location``."""

from erlen_migrate.environment import run_environment

run_environment()
