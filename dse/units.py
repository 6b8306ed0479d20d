"""Units used inside the package.

Policy: one unit per quantity, written into every name (``die_area_mm2``, ``clock_ghz``,
``power_w``, ``energy_pj``). Conversions happen only where configuration is read or
results are written. Off-chip memory sizes are decimal (GB = 1e9 bytes, GB/s = 1e9 B/s,
as memory vendors quote them); on-chip SRAM sizes are binary (``sram_mb`` is MiB,
2**20 bytes, as chip vendors quote caches and scratchpads).
"""

from __future__ import annotations

GB = 1e9  # bytes in a (decimal) gigabyte
MIB = 2.0**20  # bytes in a mebibyte (SRAM "MB")
GHZ = 1e9
PJ = 1e-12  # joules in a picojoule
TERA = 1e12
MM2_PER_CM2 = 100.0
KELVIN_OFFSET = 273.15

BYTES_PER_ELEMENT = {"bf16": 2, "fp8": 1, "int8": 1}
BITS_PER_ELEMENT = {k: 8 * v for k, v in BYTES_PER_ELEMENT.items()}
