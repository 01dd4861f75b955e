"""Reusable panels. Each takes its model (the StateStore, a CommandSink, the ViewState) in
__init__, subscribes to it, marks itself dirty and repaints on the shared refresh tick."""
