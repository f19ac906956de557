"""Checking drafts: findings, rule packs, check types, claim comparison, the draft check."""
