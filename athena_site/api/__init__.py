"""API conventions shared by every app: envelopes, errors, parsing, pagination, routing, schema."""
