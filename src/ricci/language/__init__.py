"""The input language: grammar, parser, kinds and shapes, errors."""
