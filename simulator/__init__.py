"""A deterministic simulated Dongguan that publishes through the service's real doors (docs/simulator.md)."""
