"""One segment's files: rows, BM25 postings, the FAISS index, stored sentence and title terms."""
