"""HR connectors behind one Protocol."""
