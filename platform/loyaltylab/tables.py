"""What every table module imports first: the one rule constraint names follow.

A migration can so name the constraint it alters or drops on every database. The rule is set
before any table is defined (the names are given when a constraint joins its table), here
rather than in the package's ``__init__``, which the CLI's ``--help`` loads without the ORM.
"""

from sqlmodel import SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
