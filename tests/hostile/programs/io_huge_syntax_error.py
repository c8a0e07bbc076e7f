"""A 10 MB single-line program with a syntax error at its end: python3 echoes
the offending line, all of it, on stderr (the runner appends the line)."""
