"""Webhooks: organisations subscribe a URL to events and receive signed JSON deliveries."""
