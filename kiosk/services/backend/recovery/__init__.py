"""The recovery state machine: sessions, gates, factors, eligibility, decoys, codes, throttles."""
