"""Simplification: the IR's normal form lives in the smart constructors (ricci.ir.build);
this package holds the passes that need more context (symmetry of declared variables) and the
matrix-level clean-up of raised answers (transposes, re-association, factoring)."""
