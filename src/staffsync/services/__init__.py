"""Thin service functions: one use case each, SQL through storage/, commit at the caller."""
