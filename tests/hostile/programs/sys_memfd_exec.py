"""Executes a copy of /bin/sh that the job made itself, around any
path-based rule: in a memfd (execve of /proc/self/fd/N, and execveat(fd, "",
AT_EMPTY_PATH)), or, where memfd_create is refused, in a file of its
working dir (execve by path, through /proc/self/fd/N, and execveat)."""
import ctypes
import os
libc = ctypes.CDLL(None, use_errno=True)
with open("/bin/sh", "rb") as f:
    sh = f.read()
try:
    fd = os.memfd_create("payload", 0)
    os.write(fd, sh)
    where = "memfd"
    print("ESCAPED memfd_create worked (its pages count against no limit)", flush=True)
except OSError as e:
    print("DENIED memfd_create:", e, flush=True)
    with open("payload", "wb") as f:  # closed before exec: a file open for writing gives ETXTBSY
        f.write(sh)
    os.chmod("payload", 0o755)
    fd = os.open("payload", os.O_RDONLY)
    where = "copy"
    try:
        os.execv(os.path.abspath("payload"), ["sh", "-c", "echo ESCAPED exec of a copy"])
    except OSError as e:
        print("DENIED execve of the copy by path errno %d" % e.errno, flush=True)
try:
    os.execv("/proc/self/fd/%d" % fd, ["sh", "-c", "echo ESCAPED fd exec"])
except OSError as e:
    print("DENIED execve of the %s errno %d" % (where, e.errno), flush=True)
argv = (ctypes.c_char_p * 4)(b"sh", b"-c", b"echo ESCAPED execveat", None)
envp = (ctypes.c_char_p * 1)(None)
r = libc.syscall(322, fd, b"", argv, envp, 0x1000)  # execveat(fd, "", argv, envp, AT_EMPTY_PATH)
print("DENIED execveat of the %s errno %d" % (where, ctypes.get_errno()), flush=True)
