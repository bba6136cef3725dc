"""Words and sentences: tokens, stopwords, stems, chunking, and the prepared question (pure, no index)."""
