"""`articlebot`: the command line over the engine."""
