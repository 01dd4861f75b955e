"""The thin local sync service: owns the database and the event log; speaks protocol/."""
