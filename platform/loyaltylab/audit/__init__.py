"""Audit log: who published, exported, deleted or changed a role, and when."""
