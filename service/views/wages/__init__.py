"""Wages: pay per worker as reported, converted to USD at the reported rates."""
