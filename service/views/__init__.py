"""The read models: one package each, with its tables, its updater (the `AppendRules`
it gives the log) and its queries; `rebuild` replays the updaters."""
