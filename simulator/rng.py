"""Counter-based randomness: a value is a pure function of (seed, stream, device, counter).

The simulation must give the same reading for the same device at the same model time whatever
the wall clock, tick length or speed did; a sequential generator would depend on how often it
was called. So every random draw hashes its coordinates (splitmix64 finaliser, vectorised in
numpy uint64 arithmetic, which wraps modulo 2**64 as the algorithm wants).
"""

from __future__ import annotations

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_TO_UNIT = 1.0 / float(1 << 53)


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def hash64(seed: int, stream: int, a: np.ndarray | int, b: np.ndarray | int = 0) -> np.ndarray:
    """64-bit hash of (seed, stream, a, b); a and b broadcast like numpy arrays."""
    with np.errstate(over="ignore"):
        z = np.uint64((seed * 0x100000001B3 + stream * 0x1F3D5B79) & 0xFFFFFFFFFFFFFFFF)
        z = _mix(z + _GOLD * (np.asarray(a, dtype=np.int64).astype(np.uint64) + np.uint64(1)))
        z = _mix(z + _GOLD * (np.asarray(b, dtype=np.int64).astype(np.uint64) + np.uint64(7)))
    return z


def uniform(seed: int, stream: int, a: np.ndarray | int, b: np.ndarray | int = 0) -> np.ndarray:
    """Uniform floats in [0, 1)."""
    return (hash64(seed, stream, a, b) >> np.uint64(11)).astype(np.float64) * _TO_UNIT


def normal(seed: int, stream: int, a: np.ndarray | int, b: np.ndarray | int = 0) -> np.ndarray:
    """Standard normal floats (Box-Muller on two hashed uniforms)."""
    u1 = uniform(seed, stream, a, b)
    u2 = uniform(seed, stream + 0x5151, a, b)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)
