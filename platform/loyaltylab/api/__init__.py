"""The REST API (``/api/v1``): organisation API keys, JSON routes, RFC 9457 problem details."""
