"""Cash application: 820 remittance lines matched to open invoices."""
