"""Reads /etc/shadow, root's files, the machine's SSH host keys and the
kernel log."""
import glob
for path in ["/etc/shadow", "/etc/gshadow", "/root/.bash_history", "/root/.ssh/id_rsa",
             "/dev/kmsg"] + glob.glob("/etc/ssh/ssh_host_*_key"):
    try:
        with open(path, "rb") as f:
            data = f.read(64)
        print("ESCAPED read %s: %d bytes" % (path, len(data)), flush=True)
    except OSError as e:
        print("DENIED %s: %s" % (path, e), flush=True)
