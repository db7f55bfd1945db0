"""The rest of the body: two-compartment systemic pharmacokinetics and the infusion schedule that drives it."""
