"""What every domain uses; imports nothing from the domains (reference, schedules, register, mandates, reports, api)."""
