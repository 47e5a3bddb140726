"""Sources: the documents facts were taken from, each with its facts."""
