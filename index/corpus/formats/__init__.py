"""One reader per file format (HTML, PDF); Markdown and plain text are read in corpus/folder.py."""
