"""A console logger that shows one line per finished step, for `make demo` and other terminals.

It writes to the process's real stdout, so the demo can send tools' chatter (dbt's log) to a file.
"""

from __future__ import annotations

import logging
import sys
import time

import dagster as dg


class _ProgressHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None:
            if record.levelno >= logging.WARNING:
                print(f"  ! {meta.get('orig_message', record.getMessage())}", file=sys.__stderr__, flush=True)
            return
        kind, step = event.event_type_value, event.step_key or ""
        if kind == "STEP_START":
            self.started[step] = time.monotonic()
        elif kind == "STEP_SUCCESS":
            took = time.monotonic() - self.started.get(step, time.monotonic())
            print(f"  ✓ {step:<40} {took:6.1f} s", file=sys.__stdout__, flush=True)
        elif kind == "STEP_FAILURE":
            print(f"  ✗ {step}: {meta.get('orig_message', '')}", file=sys.__stdout__, flush=True)
        elif kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if data is not None and not data.passed:
                print(
                    f"  ✗ check {data.check_name} on {data.asset_key.to_user_string()} failed",
                    file=sys.__stdout__,
                    flush=True,
                )


@dg.logger(description="One line per step with its duration, and failed checks.")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.getLogger("lakehouse.progress")
    logger.setLevel(logging.DEBUG)  # Dagster emits its step events at DEBUG
    logger.handlers = [_ProgressHandler()]
    logger.propagate = False
    return logger
