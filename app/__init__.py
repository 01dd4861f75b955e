"""The console's core: evented state store, settings, roles, halls and layouts as data. No Qt
widgets and no network here, so all of it is testable without a screen."""
