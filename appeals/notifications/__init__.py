"""Notifications for staff: the bell and inbox, preferences, the admins' log of notices sent, scheduled duties.

The outbox itself (writing and delivering notices) is appeals.core.outbox, which every domain may use.
"""
