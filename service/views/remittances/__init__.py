"""Remittance quotas, converted to USD at the reported rates."""
