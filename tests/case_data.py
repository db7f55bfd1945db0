"""Small cases shared by the tests (raw case dicts, as a TOML file would give)."""
from __future__ import annotations

LIVER = {
    "case": {"name": "small-liver"},
    "grid": {"shape": [24, 22, 20], "spacing": "4 mm"},
    "geometry": {
        "kind": "phantom",
        "organ": {"shape": "ellipsoid", "radii": ["44 mm", "40 mm", "36 mm"]},
        "tumors": [{"center": ["62 mm", "46 mm", "40 mm"], "radius": "13 mm",
                    "necrotic_radius": "6 mm"},
                   {"center": ["28 mm", "40 mm", "44 mm"], "radius": "8 mm"}],
    },
    "tissue": {
        "normal": {"supply_fractions": {"hepatic_artery": 0.25, "portal_vein": 0.75}},
        "tumor": {"perfusion": "40 mL/min/(100 mL)",
                  "supply_fractions": {"hepatic_artery": 0.9, "portal_vein": 0.1}},
    },
    "supplies": [
        {"name": "hepatic_artery", "inlets": [
            {"name": "right", "position": ["62 mm", "40 mm", "36 mm"], "flow": "30 mL/min"},
            {"name": "left", "position": ["26 mm", "46 mm", "40 mm"], "flow": "20 mL/min"},
            {"name": "caudal", "position": ["48 mm", "30 mm", "24 mm"], "flow": "15 mL/min"}]},
        {"name": "portal_vein", "pressure_drop": "8 mmHg", "conductivity": "2e-8 m^2/(Pa*s)",
         "inlets": [{"name": "trunk", "position": ["48 mm", "48 mm", "40 mm"], "flow": "190 mL/min"}]},
    ],
    "catheter": {"supply": "hepatic_artery", "inlets": ["right"]},
}


def tracer(**overrides) -> dict:
    """A fully specified custom drug (no library entry), for closed-form tests."""
    drug = {"name": "test-tracer", "diffusivity": "1e-10 m^2/s", "permeability": "1e-6 m/s",
            "solvent_drag_reflection": 1.0, "elimination_rate": "0 1/s", "uptake": "none",
            "cell_elimination_rate": "0 1/s"}
    drug.update(overrides)
    return drug


WELL_MIXED = {
    "case": {"name": "well-mixed"},
    "grid": {"shape": [8, 8, 8], "spacing": "1 cm"},
    "geometry": {"kind": "phantom", "organ": {"shape": "box", "size": ["6 cm", "6 cm", "6 cm"]}},
    "tissue": {"normal": {"vessel_wall_conductivity": "0 m/(Pa*s)", "lymphatic_conductance": "0 1/(Pa*s)",
                          "vascular_surface_density": "1e4 1/m", "extracellular_fraction": 0.25,
                          "plasma_fraction": 0.05}},
    "supplies": [{"name": "artery", "inlets": [
        {"name": "feeder", "voxel": [4, 4, 4], "flow": "216 mL/min", "radius": "20 cm"}]}],
    "catheter": {"supply": "artery", "inlets": ["feeder"]},
    "systemic": {"central_volume": "5 L", "peripheral_volume": "10 L", "clearance": "500 mL/min",
                 "k12": "0.05 1/min", "k21": "0.025 1/min"},
}
