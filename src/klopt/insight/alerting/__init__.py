"""Alerts: a significant rise of broken verdicts for a promise, or of volume, detected with
a statistical test against a baseline window, delivered by signed webhook and by e-mail.

- :mod:`klopt.insight.alerting.detection`: the test, pure functions on counts (docs/alerts.md);
- :mod:`klopt.insight.alerting.alerts`: alerts in the store: check, list, close;
- :mod:`klopt.insight.alerting.delivery`: webhook (HMAC-signed JSON) and SMTP;
- :mod:`klopt.insight.alerting.settings`: thresholds and channels from the environment.
"""

from klopt.insight.alerting.alerts import (
    AlertEvent,
    CheckResult,
    check_alerts,
    close_alert,
    list_alerts,
    parse_alert_ref,
)
from klopt.insight.alerting.delivery import SIGNATURE_HEADER, sign, verify
from klopt.insight.alerting.detection import AlertParams, Counts, RateTest, decide, rate_test
from klopt.insight.alerting.settings import (
    ALERT_SETTINGS,
    Channels,
    channels_from_settings,
    params_from_settings,
)
from klopt.insight.alerting.views import (
    AlertView,
    DeliveryView,
    EvidenceView,
    alert_json,
    alert_text,
)

__all__ = [
    "ALERT_SETTINGS",
    "SIGNATURE_HEADER",
    "AlertEvent",
    "AlertParams",
    "AlertView",
    "Channels",
    "CheckResult",
    "Counts",
    "DeliveryView",
    "EvidenceView",
    "RateTest",
    "alert_json",
    "alert_text",
    "channels_from_settings",
    "check_alerts",
    "close_alert",
    "decide",
    "list_alerts",
    "params_from_settings",
    "parse_alert_ref",
    "rate_test",
    "sign",
    "verify",
]
