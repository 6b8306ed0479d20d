"""The physics of the chip: pure, vectorised functions, one domain a module.

Each module imports numpy/scipy, the units and the other model modules only; the chain
(:mod:`dse.chain`) wires them together. ``area`` (die area from transistors and SRAM),
``roofline`` (op times), ``power`` (energy, leakage, voltage and clock), ``thermal``
(lumped junction temperature), ``thermal_grid`` (a grid of the floorplan),
``floorplan``, ``dvfs`` (the largest clock within the limits), ``cost`` (dies per wafer,
yield, NRE), ``harvest`` (spare cores), ``chiplet`` (dies and package), ``multichip``
(links and collectives), ``reliability`` and ``wearout`` (lifetime), ``carbon`` and
``export_control``.
"""
