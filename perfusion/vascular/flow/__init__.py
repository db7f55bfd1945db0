"""Flow in arterial trees: 1D Poiseuille networks, terminal source kernels, the 1D–3D coupled solve and the tree feed of a supply."""
