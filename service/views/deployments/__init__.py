"""Deployments: reported flows and stocks per country, place and affiliation, with
honest bounds, folded from `flow_contributions`."""
