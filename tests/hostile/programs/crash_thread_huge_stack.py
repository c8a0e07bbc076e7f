"""Asks for threads with 1 GiB stacks (threading.stack_size), four times its
memory limit."""
import threading
threading.stack_size(1 << 30)
t = threading.Thread(target=print, args=("ESCAPED thread with a 1 GiB stack ran",))
t.start()
t.join()
