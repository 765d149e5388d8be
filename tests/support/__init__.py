"""Test helpers that are not tests themselves: the pyx12 ack checker and its fixture."""
