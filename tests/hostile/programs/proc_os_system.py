"""os.system: the shell would print the marker and touch a file in /tmp."""
import os
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
rc = os.system("echo ESCAPED os.system ran; touch /tmp/%s-os-system" % A["gap_tag"])
print("DENIED os.system returned %d" % rc if rc != 0 else "ESCAPED os.system returned 0", flush=True)
