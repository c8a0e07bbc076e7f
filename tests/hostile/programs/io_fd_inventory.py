"""Lists every descriptor it inherited and reads what it can from those that
are not its own stdio: a leaked descriptor of the zygote or supervisor
would let it talk to them or read other jobs' data. The one extra is the
worker's status channel (fd 1020, a socket since issue 11): reading it must
give nothing the worker wrote, and it must stay the job's only socket."""
import os
import stat
extra = []
for name in sorted(os.listdir("/proc/self/fd"), key=int):
    fd = int(name)
    try:
        target = os.readlink("/proc/self/fd/%d" % fd)
    except OSError:
        continue  # the directory listing's own descriptor, gone already
    if fd in (0, 1, 2):
        continue
    mode = os.fstat(fd).st_mode
    print("FD", fd, target, stat.filemode(mode), flush=True)
    extra.append((fd, target))
    if stat.S_ISSOCK(mode) and fd != 1020:
        print("ESCAPED inherited a socket: fd %d %s" % (fd, target), flush=True)
    try:
        os.set_blocking(fd, False)
        data = os.read(fd, 65536)
        if data:
            print("READ fd %d: %r" % (fd, data[:200]), flush=True)
            if b"RBSECRET" in data or fd == 1020:
                print("ESCAPED read a secret from fd", fd, flush=True)
    except OSError:
        pass
print("EXTRA_FDS", len(extra), flush=True)
