"""Burns CPU in a background thread inside C code (regex backtracking) while
the main thread waits in join(): the CPU limit must count every thread."""
import re
import threading

t = threading.Thread(target=lambda: re.match(r"(x+x+)+y", "x" * 64))
t.start()
t.join()
