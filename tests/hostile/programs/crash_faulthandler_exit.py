"""faulthandler.dump_traceback_later(0.3, exit=True): a C watchdog thread
dumps every thread's stack and calls _exit(1) while the main module is still
sleeping. The program ends with code 1 before its main module finished."""
import faulthandler
import time
faulthandler.dump_traceback_later(0.3, exit=True)
print("armed", flush=True)
time.sleep(30)
print("ESCAPED the watchdog never fired", flush=True)
