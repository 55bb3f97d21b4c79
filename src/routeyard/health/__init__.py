"""Endpoint health: outcome recording, per-minute aggregation and the live-field window maths."""
