"""Current views of the log: deployments, timeline, remittances, … rebuilt from it at will."""
