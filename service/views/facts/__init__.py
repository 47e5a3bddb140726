"""Facts: each reported fact's current version, the references between facts, and the
facts as the ledger knew them at any position."""
