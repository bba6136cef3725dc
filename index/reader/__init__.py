"""The reader model: a cross-encoder that reads (question, sentence) pairs and marks the answer span."""
