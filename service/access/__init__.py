"""API keys and their scopes: who may write to the ledger."""
