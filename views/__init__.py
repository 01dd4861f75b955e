"""Screens composed from widgets: one per hall or task (views/city3d/ is the 3D city)."""
