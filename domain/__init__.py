"""The robot's shared vocabulary: the record types a step works on.

It sits beneath every other package (`robots/` → `flows/` → `pages/` → here) and imports
none of them, so any layer may use it.
"""
