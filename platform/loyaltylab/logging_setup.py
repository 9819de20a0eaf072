"""Plain one-line logs on stderr."""

import logging


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s", force=True
    )
    # uvicorn's own access log would duplicate ours.
    logging.getLogger("uvicorn.access").disabled = True
