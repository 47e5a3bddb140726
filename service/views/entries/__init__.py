"""Entry statistics: official counts of arrivals into a country, kept apart from the flows."""
