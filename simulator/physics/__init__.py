"""Value models: what each device type reads at a model time, vectorised over devices.

Every model is a pure function of (seed, device index, emission counter k, model time t) and
the weather record, so a reading never depends on the wall clock or how the run was ticked.
"""
