"""Tries to reach the user's terminal: opens /dev/tty and pushes characters
into a terminal's input with TIOCSTI on its stdio."""
import fcntl
import termios
try:
    with open("/dev/tty", "w") as tty:
        tty.write("ESCAPED wrote to the terminal\n")
    print("ESCAPED opened /dev/tty", flush=True)
except OSError as e:
    print("DENIED /dev/tty:", e, flush=True)
for fd in (0, 1, 2):
    try:
        fcntl.ioctl(fd, termios.TIOCSTI, b"x")
        print("ESCAPED TIOCSTI on fd", fd, flush=True)
    except OSError as e:
        print("DENIED TIOCSTI fd %d: %s" % (fd, e), flush=True)
