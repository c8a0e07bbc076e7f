"""Hard-links files outside its working dir into it as its tracked files,
for runbox to read back with its own rights: the runner's canary (owned by
uid 65534, mode 0600) and a root-only file (0600, in a dir anyone may
enter). With fs.protected_hardlinks=1 the kernel refuses links to files the
job could not read and write; where it is 0, a link succeeds, and only
runbox's reading must not carry the contents into the record (the runner
looks for both secrets in every record)."""
import os
import sys
A = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
for what, src, dst in (("canary", A["canary_file"], "out.txt"), ("root file", A["root_file"], "root.txt")):
    try:
        owner = os.stat(src).st_uid
    except OSError as e:
        print("DENIED %s: cannot even stat it: %s" % (what, e), flush=True)
        continue
    try:
        os.link(src, dst)
    except OSError as e:
        print("DENIED %s: link: %s" % (what, e), flush=True)
        continue
    if owner == os.getuid():
        print("GAP %s: hard link to a file of the job's own user outside the working dir" % what, flush=True)
    else:
        print("%s: LINKED a file of uid %d (fs.protected_hardlinks is 0?)" % (what, owner), flush=True)
