"""The websocket side of the sync service: handshake auth (app.py), sessions (session.py),
domain scope filtering (scope.py), rate limits (ratelimit.py). SyncServer is in app.py."""
