"""Insight: periods, the scorecard, alerts and the management report."""
