"""Articles from the web: fetch a page safely, extract its main text, store it as a Markdown article,
and follow RSS/Atom feeds. Never imports discord."""
