"""Question -> Answer: retrieval, features and small learned models, the quote chosen with or without the reader."""
