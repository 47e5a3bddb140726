"""Reported stocks of workers, beside the flows reported since."""
