"""Handset stock: where each handset is, how it moves, and the re-orders a shortfall opens."""
