"""eval of '(' * 100000: the parser's own nesting limit."""
eval("(" * 100000)
