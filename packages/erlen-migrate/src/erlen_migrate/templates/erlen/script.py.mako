<%doc>
    The template of every new revision. This file belongs to your project: edit
    it freely (e.g. to add imports every revision needs). erlen-migrate passes
    message, up_revision, down_revision, branch_labels, depends_on,
    create_date, imports, multidb, database_names and, for autogenerate,
    upgrades/downgrades (one database) or <name>_upgrades/<name>_downgrades
    (several databases; "" names the default database).
</%doc>\
"""${message}

Revision ID: ${up_revision}
% if down_revision:
Revises: ${down_revision | comma,n}
% else:
Revises: nothing, this is a first revision
% endif
Create Date: ${create_date}

"""

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
# Revision identifiers, used by Alembic.
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}
% if context.get("multidb"):


def upgrade(engine_name: str = "") -> None:
    globals().get(f"upgrade_{engine_name}", _nothing)()


def downgrade(engine_name: str = "") -> None:
    globals().get(f"downgrade_{engine_name}", _nothing)()


def _nothing() -> None:
    pass
% for name in context.get("database_names", [""]):


def upgrade_${name}() -> None:
    ${context.get(f"{name}_upgrades", "pass")}


def downgrade_${name}() -> None:
    ${context.get(f"{name}_downgrades", "pass")}
% endfor
% else:


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
% endif
