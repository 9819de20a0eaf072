"""LoyaltyLab: survey and loyalty research platform (web app, settings, database, auth, CLI)."""

from sqlmodel import SQLModel

__version__ = "0.1.0"

# Constraint names follow one rule, so a migration can name the constraint it alters or drops
# on every database. Set here, before any table module of the package defines its table: the
# names are given when a constraint joins its table.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
