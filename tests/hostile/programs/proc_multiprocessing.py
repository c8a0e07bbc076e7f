"""Starts a multiprocessing Process with each start method: fork, spawn and
forkserver."""
import multiprocessing


def child():
    print("ESCAPED multiprocessing child", flush=True)


if __name__ == "__main__":
    for method in ("fork", "spawn", "forkserver"):
        try:
            ctx = multiprocessing.get_context(method)
            p = ctx.Process(target=child)
            p.start()
            p.join(2)
            print("ESCAPED started a %s process" % method, flush=True)
        except Exception as e:
            print("DENIED %s: %s: %s" % (method, type(e).__name__, e), flush=True)
