"""The X12 engine: reader, envelopes, guides, validation, acknowledgments and writer."""
