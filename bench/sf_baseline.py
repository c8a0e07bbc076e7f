"""The baseline for `runbox serve`'s benchmark: SandboxFusion's method, written
here from its description (sandbox/runners: a temp dir per request, the code
written to a file, `python FILE` spawned through bash, stdout and stderr read
back, the RunCodeResponse built), behind Python's threading HTTP server with
keep-alive. No isolation at all, as SandboxFusion's `isolation: none`: this is
the cost of its way of running a job, not of a sandbox.

    /usr/bin/python3 bench/sf_baseline.py PORT
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PYTHON = "/usr/bin/python3"


def run_code(req):
    with tempfile.TemporaryDirectory(dir="/tmp") as d:
        with tempfile.NamedTemporaryFile("w", dir=d, suffix=".py", delete=False) as f:
            f.write(req["code"])
        start = time.time()
        try:
            p = subprocess.run("%s %s" % (PYTHON, f.name), shell=True, executable="/bin/bash", cwd=d,
                               input=(req.get("stdin") or "").encode(), capture_output=True,
                               timeout=float(req.get("run_timeout", 10)))
            rr = {"status": "Finished", "execution_time": time.time() - start, "return_code": p.returncode,
                  "stdout": p.stdout.decode(errors="replace"), "stderr": p.stderr.decode(errors="replace")}
        except subprocess.TimeoutExpired as e:
            rr = {"status": "TimeLimitExceeded", "execution_time": time.time() - start, "return_code": None,
                  "stdout": (e.stdout or b"").decode(errors="replace"),
                  "stderr": (e.stderr or b"").decode(errors="replace")}
    status = "Success" if rr["return_code"] == 0 else "Failed"
    return {"status": status, "message": "", "compile_result": None, "run_result": rr,
            "executor_pod_name": None, "files": {}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        out = json.dumps(run_code(json.loads(body))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 256
    srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("listening on %d" % srv.server_address[1], flush=True)
    srv.serve_forever()
