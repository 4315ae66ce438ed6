"""Python side of the workstation: phantom generator (models/phantom) and training/export (models/training)."""
