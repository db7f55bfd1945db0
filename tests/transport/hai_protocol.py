"""The doxorubicin intra-arterial (HAI) protocol the transport tests add to the small liver.

``DOXORUBICIN_HAI`` holds the ``drug``, ``infusion`` and ``simulation`` blocks of a raw case
dict (as a TOML file would give): 50 mg over 30 min from 10 min, 2 h simulated with outputs
every 20 min and the intravenous comparator.
"""
from __future__ import annotations

DOXORUBICIN_HAI = {
    "drug": {"name": "doxorubicin"},
    "infusion": [{"route": "intra-arterial", "start": "10 min", "duration": "30 min", "dose": "50 mg"}],
    "simulation": {"duration": "2 h", "output_every": "20 min", "compare_iv": True},
}
