"""`labor-ledger`: the command line, one module per command group."""
