"""Reference pages generated from the code: ``python -m klopt.cli.reference``.

The settings page gathers the core's settings and those of each capability; it lives
with the faces because only a face may know every capability.
"""

from __future__ import annotations

from klopt.config import settings_markdown

__all__ = ["settings_page"]


def settings_page() -> str:
    """``docs/settings.md``: every setting klopt reads, by capability."""
    from klopt.insight.alerting.settings import ALERT_SETTINGS

    alerts = (
        "Alerts",
        "Read when `klopt alerts check` runs; the method is in [alerts.md](alerts.md).",
        ALERT_SETTINGS,
    )
    return settings_markdown(alerts)


if __name__ == "__main__":
    print(settings_page(), end="")
