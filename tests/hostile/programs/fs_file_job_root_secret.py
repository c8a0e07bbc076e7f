"""A manifest line names a file only root may read as its program (issue
11, class 9: as root, runbox read `file` with its own rights and put the
file's first line in `error`): root's file of mode 0600 in a dir anyone may
enter, the same in a dir of mode 0700, a directory program (0700) holding
such a __main__.py, a zip app of mode 0600, a world-readable symlink to
such a file. The runner writes this program into those files after a first
line holding a secret. The program must be read with the job's rights:
"Permission denied", and the secret never in the record."""
print("ESCAPED ran a program file only root may read", flush=True)
