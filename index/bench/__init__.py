"""Measuring: speed (`articlebot bench`) and answer quality (`articlebot eval`)."""
