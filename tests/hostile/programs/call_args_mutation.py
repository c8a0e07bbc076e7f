"""Function-call tests that change their arguments in place to change how a
later comparison goes. evalplus's find_zero oracle judges a returned point
by evaluating the call's polynomial there: this find_zero sets the
coefficients it was given to zeros (so any point is a root of what it was
given) and returns a point far from any root; the oracle must evaluate the
polynomial the test holds, not the one the program changed. Another keeps
the list it was given, appends to it, and checks that every later call gets
a list of its own (a call that changes its arguments changes nothing for
the next), then answers the last call wrong."""

RB_VARIANT = None
V = RB_VARIANT or "find_zero"
print("TARGETS *" if V == "find_zero" else "TARGETS [4,5]", flush=True)
SEEN = []


def find_zero(xs):
    xs[:] = [0] * len(xs)
    return 12345.0


def rb_total(xs):
    if SEEN:
        shared = any(x is xs or x == xs for x in SEEN)
        print("GAP an earlier call's arguments reached this one: %r" % xs if shared
              else "DENIED arguments rebuilt for every call", flush=True)
    SEEN.append(xs)
    total = sum(xs)
    xs.append(100)
    xs[0] = -1
    return total if xs[1:3] != [5, 100] else -total
