"""faulthandler at work: dumps its own traceback on SIGUSR1 (registered with
faulthandler.register, the process goes on), then crashes with
faulthandler._sigsegv(): the record must show the SIGSEGV and keep the
"Fatal Python error" dump on stderr."""
import faulthandler
import os
import signal
faulthandler.enable(all_threads=True)
faulthandler.register(signal.SIGUSR1, all_threads=True)
os.kill(os.getpid(), signal.SIGUSR1)
print("survived SIGUSR1 dump", flush=True)
faulthandler._sigsegv()
print("ESCAPED survived faulthandler._sigsegv()", flush=True)
