"""ASGI entry point for uvicorn workers: ``loyaltylab.asgi:app``."""

from loyaltylab.app import create_app
from loyaltylab.logging_setup import configure_logging

configure_logging()
app = create_app()
