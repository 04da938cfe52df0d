# Settings of this migrations folder, read by erlen-migrate. Alembic's options
# (file_template, timezone, truncate_slug_length, post-write hooks, ...) may be
# added to the [alembic] section; script_location is set by erlen-migrate.

[alembic]
# The databases to manage: "*" for the default database and every bind, or a
# comma-separated list of bind keys ("default" is SQLALCHEMY_DATABASE_URI).
# databases = *
