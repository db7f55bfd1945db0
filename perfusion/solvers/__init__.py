"""Matrix-free finite-volume operators and Krylov solvers, written against ``xp``."""
