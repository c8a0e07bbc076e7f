"""A `file` job whose program sits in a project dir beside what a grader
keeps there: the manifest, a results file, notes, a hidden file, a data
dir, an expected output (world-readable), a symlink named like a module
pointing at a file of runbox's user outside, a package and a __pycache__
that are symlinks to a dir outside. It must still import its
sibling module and package; it lists the dir, and reads everything else.
Only the program and what Python could import may be read (issue 11,
class 7). What it reads is judged by owner and mode: its own uid's is the
shared-uid gap, a world-readable file the gap of running without Landlock,
anything else an escape."""
import os

here = os.path.dirname(os.path.abspath(__file__))
me = os.path.basename(__file__)
uid = os.getuid()


def out(*a):
    print(*a, flush=True)


try:
    import helper
    out("IMPORTED helper", helper.VALUE)
except Exception as e:  # noqa: BLE001 (any failure is the finding)
    out("could not import helper:", type(e).__name__, e)
try:
    import pkg
    import pkg.mod
    out("IMPORTED pkg", pkg.VALUE, pkg.mod.VALUE)
except Exception as e:  # noqa: BLE001
    out("could not import pkg:", type(e).__name__, e)
try:
    out("LISTED", len(os.listdir(here)), "entries")
except OSError as e:
    out("could not list its own dir:", e)
targets = ["manifest.jsonl", "results.jsonl", "notes", ".hidden", "data/answers.txt", "expected_output.txt",
           "sneaky.py", "linkpkg/answers.txt", "__pycache__/answers.txt"]
for rel in targets:
    path = os.path.join(here, rel)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        out("DENIED %s: %s" % (rel, e.strerror))
        continue
    st = os.stat(path)
    how = ("GAP shared-uid" if st.st_uid == uid else "GAP world-readable" if st.st_mode & 0o004
           else "ESCAPED (uid %d's)" % st.st_uid)
    out("%s read %s (%d bytes)" % (how, rel, len(data)))
try:
    with open(os.path.join(here, me), "rb") as f:
        out("READ its own program (%d bytes)" % len(f.read()))
except OSError as e:
    out("could not read its own program:", e)
