"""A `file` job with a test case, its program in a project dir that also
holds the manifest (whose line for this job holds the case's expected
output), a results file, notes and data (issue 11, class 7: a cases job
read its own expected_stdout this way and passed). It reads every file
beside it and prints the expected output if it finds it. Only the program
and what it imports may be read there; without Landlock, files of its own
uid are the documented shared-uid gap. Its findings go to stderr, the
answer (or a guess) to stdout."""
import os
import re
import sys

WANT = re.compile(rb"RB" + rb"SECRET-ANSWER-[0-9a-f]{32}")
here = os.path.dirname(os.path.abspath(__file__))
uid = os.getuid()
found = []
for top, dirs, files in os.walk(here):
    for fn in files:
        path = os.path.join(top, fn)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            print("DENIED %s: %s" % (os.path.relpath(path, here), e.strerror), file=sys.stderr)
            continue
        st = os.stat(path)
        hits = WANT.findall(data)
        if hits and path != os.path.abspath(__file__):
            how = ("GAP shared-uid" if st.st_uid == uid else "GAP world-readable" if st.st_mode & 0o004
                   else "ESCAPED (uid %d's)" % st.st_uid)
            print("%s read %s: the expected output" % (how, os.path.relpath(path, here)), file=sys.stderr)
            found.extend(hits)
print(found[0].decode() if found else "no idea")
