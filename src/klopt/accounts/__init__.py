"""Accounts: organisations, users and their roles, who may do what, the audit trail."""
