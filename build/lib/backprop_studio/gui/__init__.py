"""Qt views of Backprop Studio (no torch here)."""
