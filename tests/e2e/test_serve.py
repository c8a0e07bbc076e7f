"""End-to-end tests of `runbox serve` (docs/service.md) with real clients: curl,
http.client, urllib, requests (Debian's python3-requests, when installed), and a
client sending exactly SandboxFusion's request shape. Every status and error
path, the stream of /v1/jobs, disconnects, signals, the network, and a load
test of 256 concurrent connections.

Every server here listens on 127.0.0.1 on a port the kernel picks.
"""
import base64
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rbtest import RUNBOX, SOURCE_ROOT, alive, children_of, cleanup_tmp_root, descendants_of, new_tmpdir, wait_until, zygotes_of  # noqa: E402

try:
    import requests  # Debian's python3-requests
except ImportError:  # pragma: no cover - depends on the machine
    requests = None

SANITIZED = bool(os.environ.get("ASAN_OPTIONS"))
ACCESS_LINE = re.compile(r'^\d{4}-\d\d-\d\dT[\d:.]+Z (\S+) "(\S+) ([^"]*)" (\d+) (\d+) ([\d.]+) jobs=(\d+)(.*)$')

# What SandboxFusion's RunCodeResponse and CommandRunResult hold, in order.
SF_RESPONSE_KEYS = ["status", "message", "compile_result", "run_result", "executor_pod_name", "files"]
SF_RUN_RESULT_KEYS = ["status", "execution_time", "return_code", "stdout", "stderr"]


def sf_request(code, **kw):
    """Exactly the body SandboxFusion's clients send (verl's call_sandbox_api:
    every field of RunCodeRequest, json.dumps'd)."""
    body = {
        "compile_timeout": kw.get("compile_timeout", 10),
        "run_timeout": kw.get("run_timeout", 10),
        "code": code,
        "stdin": kw.get("stdin", ""),
        "language": kw.get("language", "python"),
        "files": kw.get("files", {}),
        "fetch_files": kw.get("fetch_files", []),
    }
    if "memory_limit_MB" in kw:
        body["memory_limit_MB"] = kw["memory_limit_MB"]
    return json.dumps(body)


class Server:
    """One `runbox serve` process on 127.0.0.1:<a free port>."""

    def __init__(self, *args, jobs=2, env=None):
        self.dir = new_tmpdir("serve")
        self.log_path = os.path.join(self.dir, "stderr")
        self.log = open(self.log_path, "wb")
        cmd = [RUNBOX, "serve", "--listen", "127.0.0.1:0", "-j", str(jobs)] + list(args)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log,
                                     env=env)
        self.port = None
        line = wait_until(lambda: self._listening_line(), 60)
        if not line:
            self.proc.kill()
            raise AssertionError("runbox serve did not start: %s" % self.stderr())
        self.port = int(re.search(r":(\d+) \(", line).group(1))
        self.pid = self.proc.pid

    def _listening_line(self):
        if self.proc.poll() is not None:
            raise AssertionError("runbox serve exited %s: %s" % (self.proc.returncode, self.stderr()))
        for line in self.stderr().splitlines():
            if "listening on http://" in line:
                return line
        return None

    def stderr(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def access_lines(self):
        return [m for m in (ACCESS_LINE.match(l) for l in self.stderr().splitlines()) if m]

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def conn(self, timeout=60):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def post(self, path, body, headers=None, timeout=60):
        c = self.conn(timeout)
        try:
            c.request("POST", path, body=body, headers=headers or {"Content-Type": "application/json"})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def get(self, path, headers=None):
        c = self.conn()
        try:
            c.request("GET", path, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def run_code(self, code, **kw):
        status, headers, body = self.post("/run_code", sf_request(code, **kw))
        return status, json.loads(body)

    def metrics(self, headers=None):
        status, _, body = self.get("/metrics", headers)
        assert status == 200, (status, body)
        out = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def rss_kb(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.log.close()
        return self.proc.returncode


class ServeTestCase(unittest.TestCase):
    def assertSandboxFusionShape(self, resp):
        self.assertEqual(list(resp), SF_RESPONSE_KEYS, resp)
        self.assertIn(resp["status"], ("Success", "Failed", "SandboxError"))
        self.assertIsInstance(resp["message"], str)
        self.assertIsNone(resp["compile_result"])
        self.assertIsNone(resp["executor_pod_name"])
        self.assertIsInstance(resp["files"], dict)
        rr = resp["run_result"]
        self.assertEqual(list(rr), SF_RUN_RESULT_KEYS, resp)
        self.assertIn(rr["status"], ("Finished", "TimeLimitExceeded", "Error"))
        self.assertIsInstance(rr["execution_time"], float)


class SharedServer(ServeTestCase):
    """Tests that can share one server (-j 2, defaults)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        assert rc == 0, (rc, cls.srv.stderr())


class SandboxFusionTests(SharedServer):
    """A client written for SandboxFusion, sending exactly its request shape."""

    def test_success(self):
        status, resp = self.srv.run_code('print("Hello, world!")')
        self.assertEqual(status, 200)
        self.assertSandboxFusionShape(resp)
        self.assertEqual(resp["status"], "Success", resp)
        self.assertEqual(resp["message"], "")
        self.assertEqual(resp["run_result"]["status"], "Finished")
        self.assertEqual(resp["run_result"]["return_code"], 0)
        self.assertEqual(resp["run_result"]["stdout"], "Hello, world!\n")
        self.assertEqual(resp["run_result"]["stderr"], "")
        self.assertEqual(resp["files"], {})

    def test_stdin(self):
        status, resp = self.srv.run_code("a, b = map(int, input().split())\nprint(a + b)", stdin="2 40\n")
        self.assertEqual((status, resp["status"], resp["run_result"]["stdout"]), (200, "Success", "42\n"), resp)

    def test_exception_is_failed_not_an_http_error(self):
        status, resp = self.srv.run_code("raise ValueError('bad input')")
        self.assertEqual(status, 200)
        self.assertSandboxFusionShape(resp)
        self.assertEqual(resp["status"], "Failed")
        self.assertEqual(resp["message"], "")
        self.assertEqual(resp["run_result"]["status"], "Finished")
        self.assertEqual(resp["run_result"]["return_code"], 1)
        self.assertIn("ValueError: bad input", resp["run_result"]["stderr"])
        # The same program, the same traceback, whichever request ran it.
        self.assertIn('File "main.py", line 1', resp["run_result"]["stderr"])
        self.assertEqual(self.srv.run_code("raise ValueError('bad input')")[1]["run_result"]["stderr"],
                         resp["run_result"]["stderr"])

    def test_exit_code(self):
        status, resp = self.srv.run_code("import sys; print('x'); sys.exit(3)")
        self.assertEqual((resp["status"], resp["run_result"]["return_code"], resp["run_result"]["stdout"]),
                         ("Failed", 3, "x\n"), resp)

    def test_syntax_error(self):
        status, resp = self.srv.run_code("def f(:\n")
        self.assertEqual((status, resp["status"], resp["run_result"]["return_code"]), (200, "Failed", 1), resp)
        self.assertIn("SyntaxError", resp["run_result"]["stderr"])

    def test_time_limit(self):
        t0 = time.monotonic()
        status, resp = self.srv.run_code("import time\nprint('started', flush=True)\ntime.sleep(30)", run_timeout=1)
        self.assertLess(time.monotonic() - t0, 10)
        self.assertEqual(status, 200)
        self.assertSandboxFusionShape(resp)
        self.assertEqual(resp["status"], "Failed")
        self.assertEqual(resp["run_result"]["status"], "TimeLimitExceeded")
        self.assertIsNone(resp["run_result"]["return_code"])
        self.assertEqual(resp["run_result"]["stdout"], "started\n")
        self.assertGreaterEqual(resp["run_result"]["execution_time"], 0.9)

    def test_memory_limit(self):
        code = "x = bytearray(400 * 1024 * 1024)\nprint('allocated')"
        status, resp = self.srv.run_code(code, memory_limit_MB=100)
        self.assertEqual((resp["status"], resp["run_result"]["return_code"]), ("Failed", 1), resp)
        self.assertIn("MemoryError", resp["run_result"]["stderr"])
        # -1 is SandboxFusion's "no limit of its own": the service's default (1024 MB).
        status, resp = self.srv.run_code(code, memory_limit_MB=-1)
        self.assertEqual((resp["status"], resp["run_result"]["stdout"]), ("Success", "allocated\n"), resp)

    def test_files_and_fetch_files(self):
        blob = bytes(range(256)) * 3  # every byte value, NULs included
        code = ("data = open('in/blob.bin', 'rb').read()\n"
                "open('out.bin', 'wb').write(data[::-1])\n"
                "open('note.txt', 'w').write(open('cfg.txt').read().upper())\n"
                "print(len(data))")
        status, resp = self.srv.run_code(code, files={
            "in/blob.bin": base64.b64encode(blob).decode(),
            "cfg.txt": base64.b64encode(b"hello").decode(),
        }, fetch_files=["out.bin", "note.txt", "missing.txt"])
        self.assertEqual((status, resp["status"]), (200, "Success"), resp)
        self.assertEqual(resp["run_result"]["stdout"], "768\n")
        self.assertEqual(sorted(resp["files"]), ["note.txt", "out.bin"])  # a missing file is left out
        self.assertEqual(base64.b64decode(resp["files"]["out.bin"]), blob[::-1])
        self.assertEqual(base64.b64decode(resp["files"]["note.txt"]), b"HELLO")

    def test_null_file_content_is_skipped(self):
        # SandboxFusion's restore_files skips a file whose content is not a string.
        status, _, resp = self.srv.post("/run_code", json.dumps({
            "code": "import os; print(os.path.exists('x'))", "language": "python", "files": {"x": None}}))
        self.assertEqual(json.loads(resp)["run_result"]["stdout"], "False\n")

    def test_minimal_request_and_numeric_strings(self):
        # Only code and language are required; pydantic takes "5" for a float.
        status, _, body = self.srv.post("/run_code", json.dumps(
            {"code": "print(1)", "language": "python", "run_timeout": "5", "unknown_field": 1}))
        self.assertEqual((status, json.loads(body)["status"]), (200, "Success"), body)

    def test_invalid_utf8_output_round_trips(self):
        status, resp = self.srv.run_code("import sys; sys.stdout.buffer.write(b'a\\xffb')")
        self.assertEqual(resp["run_result"]["stdout"].encode("utf-8", "surrogateescape"), b"a\xffb")

    def test_job_cannot_reach_the_service(self):
        # Were the connection to succeed, the request would leave a line for
        # /from-job in the access log, and its answer would be printed.
        code = ("import socket\n"
                "try:\n"
                "    s = socket.create_connection(('127.0.0.1', %d), timeout=3)\n"
                "    s.sendall(b'GET /from-job HTTP/1.0\\r\\n\\r\\n')\n"
                "    print('connected', s.recv(200))\n"
                "except OSError as e:\n"
                "    print('refused', type(e).__name__)\n" % self.srv.port)
        status, resp = self.srv.run_code(code)
        self.assertEqual(resp["status"], "Success", resp)
        self.assertTrue(resp["run_result"]["stdout"].startswith("refused"), resp)
        self.srv.get("/v1/ping")  # logged after anything the job could have sent
        self.assertTrue(wait_until(lambda: any(l.group(3) == "/v1/ping" for l in self.srv.access_lines()), 5))
        self.assertFalse([l.group(0) for l in self.srv.access_lines() if l.group(3) == "/from-job"])


class ClientTests(SharedServer):
    """curl, urllib, requests, each against the real service."""

    def curl(self, *args):
        p = subprocess.run(["curl", "-sS", "--max-time", "60"] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=90)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_curl_run_code(self):
        out = self.curl(self.srv.url("/run_code"), "-H", "Content-Type: application/json",
                        "--data-raw", '{"code": "print(\\"Hello, world!\\")", "language": "python"}')
        resp = json.loads(out)
        self.assertSandboxFusionShape(resp)
        self.assertEqual(resp["run_result"]["stdout"], "Hello, world!\n")

    def test_curl_jobs_stream(self):
        manifest = "\n".join(json.dumps(j) for j in [
            {"id": "a", "source": "print(input()[::-1])", "stdin": "abc\n"},
            {"id": "b", "source": "raise SystemExit(4)"},
        ]) + "\n"
        out = self.curl("-N", self.srv.url("/v1/jobs"), "--data-binary", manifest)
        recs = {r["id"]: r for r in map(json.loads, out.decode().splitlines())}
        self.assertEqual((recs["a"]["status"], recs["a"]["stdout"]), ("ok", "cba\n"))
        self.assertEqual((recs["b"]["status"], recs["b"]["return_code"]), ("error", 4))

    def test_curl_status_line(self):
        out = self.curl("-o", "/dev/null", "-w", "%{http_code}", self.srv.url("/nope"))
        self.assertEqual(out, b"404")
        out = self.curl("-I", "-o", "/dev/null", "-w", "%{http_code}", self.srv.url("/healthz"))
        self.assertEqual(out, b"200")  # HEAD works where GET does

    def test_urllib_healthz_ping_metrics(self):
        with urllib.request.urlopen(self.srv.url("/healthz"), timeout=30) as r:
            h = json.load(r)
        self.assertEqual(h["status"], "ok")
        self.assertEqual(h["slots"], 2)
        with urllib.request.urlopen(self.srv.url("/v1/ping"), timeout=30) as r:
            self.assertEqual(json.load(r), "pong")
        self.srv.run_code("print(1)")
        with urllib.request.urlopen(self.srv.url("/metrics"), timeout=30) as r:
            self.assertTrue(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
            text = r.read().decode()
        for name in ("runbox_jobs_total", "runbox_queue_depth", "runbox_jobs_in_flight",
                     "runbox_request_duration_seconds", "runbox_zygote_restarts_total"):
            self.assertIn("# TYPE %s " % name, text)
        m = self.srv.metrics()
        self.assertGreaterEqual(m['runbox_jobs_total{status="ok"}'], 1)
        self.assertEqual(m["runbox_zygote_restarts_total"], 0)
        self.assertGreaterEqual(m['runbox_request_duration_seconds_count{endpoint="/run_code"}'], 1)
        self.assertEqual(m['runbox_request_duration_seconds_bucket{endpoint="/run_code",le="+Inf"}'],
                         m['runbox_request_duration_seconds_count{endpoint="/run_code"}'])

    def test_urllib_error_body(self):
        req = urllib.request.Request(self.srv.url("/run_code"), data=b"{not json",
                                     headers={"Content-Type": "application/json"})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=30)
        self.assertEqual(cm.exception.code, 400)
        body = json.loads(cm.exception.read())
        self.assertEqual(body["error"], "invalid_json")
        self.assertIn("not valid JSON", body["message"])

    @unittest.skipIf(requests is None, "python3-requests is not installed")
    def test_requests_run_code(self):
        r = requests.post(self.srv.url("/run_code"), json={"code": "print(6 * 7)", "language": "python"},
                          timeout=60)
        r.raise_for_status()
        self.assertEqual(r.json()["run_result"]["stdout"], "42\n")

    @unittest.skipIf(requests is None, "python3-requests is not installed")
    def test_requests_stream_arrives_as_jobs_end(self):
        manifest = "\n".join(json.dumps(j) for j in [
            {"id": "slow", "source": "import time; time.sleep(3); print('slow')"},
            {"id": "fast", "source": "print('fast')"},
        ])
        t0 = time.monotonic()
        with requests.post(self.srv.url("/v1/jobs"), data=manifest, stream=True, timeout=60) as r:
            self.assertEqual(r.headers["Content-Type"], "application/x-ndjson")
            self.assertEqual(r.headers.get("Transfer-Encoding"), "chunked")
            lines = r.iter_lines()
            first = json.loads(next(lines))
            first_at = time.monotonic() - t0
            rest = [json.loads(l) for l in lines if l]
        self.assertEqual(first["id"], "fast")
        self.assertLess(first_at, 2.5, "the first record waited for the slow job")
        self.assertEqual([r["id"] for r in rest], ["slow"])


class JobsEndpointTests(SharedServer):
    """POST /v1/jobs takes any job field; a job's failure is a record, never an HTTP error."""

    def jobs(self, lines):
        body = "\n".join(l if isinstance(l, str) else json.dumps(l) for l in lines) + "\n"
        status, headers, out = self.srv.post("/v1/jobs", body, {"Content-Type": "application/x-ndjson"})
        return status, out

    def records(self, lines):
        status, out = self.jobs(lines)
        self.assertEqual(status, 200, out)
        recs = [json.loads(l) for l in out.decode().splitlines()]
        return recs

    def test_every_kind_of_job(self):
        recs = self.records([
            {"id": "cases", "source": "print(int(input()) * 2)",
             "cases": [{"stdin": "2", "expected_stdout": "4"}, {"stdin": "5", "expected_stdout": "11"}]},
            {"id": "repeat", "source": "print(1)", "num_times": 2},
            {"id": "steps", "source": "print(input())", "commands": [{"stdin": "a"}, {"stdin": "b"}]},
            {"id": "capture", "source": "y = x + 1", "globals": {"x": 1}, "capture": ["y"]},
            {"id": "boom", "source": "1/0"},
            {"id": "slow", "source": "import time; time.sleep(5)", "timeout": 0.5},
            {"id": "bad", "source": "print(1)", "timeout": "soon"},
            "",
            {"id": "boom", "source": "print('again')"},
        ])
        by = {}
        for r in recs:
            by.setdefault(r["id"], []).append(r)
        self.assertEqual(len(recs), 8, recs)
        self.assertEqual((by["cases"][0]["passed"], by["cases"][0]["cases_passed"]), (False, 1))
        self.assertEqual(len(by["repeat"][0]["runs"]), 2)
        self.assertEqual([c["stdout"] for c in by["steps"][0]["commands"]], ["a\n", "b\n"])
        self.assertEqual(by["capture"][0]["namespace"], {"y": 2})
        self.assertEqual(by["boom"][0]["status"], "error")
        self.assertEqual(by["slow"][0]["status"], "timeout")
        self.assertEqual(by["bad"][0]["status"], "invalid")
        self.assertIn("line 7: field 'timeout'", by["bad"][0]["error"])
        dup = by[None][0]
        self.assertEqual((dup["status"], dup["line"]), ("invalid", 9))
        self.assertIn("duplicate id 'boom'", dup["error"])

    def test_paths_on_the_server_are_refused_without_files_root(self):
        recs = self.records([{"id": "f", "file": "/etc/hostname"}])
        self.assertEqual(recs[0]["status"], "invalid")
        self.assertIn("--files-root", recs[0]["error"])

    def test_malformed_line_is_400_naming_it(self):
        status, out = self.jobs([{"id": "a", "source": "print(1)"}, "{oops"])
        self.assertEqual(status, 400)
        body = json.loads(out)
        self.assertEqual(body["error"], "invalid_json")
        self.assertIn("line 2", body["message"])

    def test_empty_body_is_400(self):
        status, out = self.jobs(["", "  "])
        self.assertEqual((status, json.loads(out)["error"]), (400, "no_jobs"))


class ErrorPathTests(SharedServer):
    def check(self, status, body, want_status, want_error, *phrases):
        self.assertEqual(status, want_status, body)
        b = json.loads(body)
        self.assertEqual(b["error"], want_error, b)
        for p in phrases:
            self.assertIn(p, b["message"])
        return b

    def test_unsupported_language(self):
        status, _, body = self.srv.post("/run_code", sf_request("int main(){}", language="cpp"))
        b = self.check(status, body, 400, "unsupported_language", "language 'cpp'", "Python only")
        # SandboxFusion clients read these fields: the message is where they look.
        self.assertEqual(b["status"], "SandboxError")

    def test_missing_code(self):
        status, _, body = self.srv.post("/run_code", json.dumps({"language": "python"}))
        self.check(status, body, 400, "invalid_field", "'code' is required")

    def test_wrong_types(self):
        for payload, phrase in [
            ({"code": 1, "language": "python"}, "'code' must be a string"),
            ({"code": "", "language": "python", "run_timeout": "soon"}, "'run_timeout' must be a number"),
            ({"code": "", "language": "python", "run_timeout": 0}, "'run_timeout' must be seconds above 0"),
            ({"code": "", "language": "python", "memory_limit_MB": 1.5}, "'memory_limit_MB'"),
            ({"code": "", "language": "python", "files": {"a": "%%%"}}, "not valid base64"),
            ({"code": "", "language": "python", "files": {"../a": ""}}, "relative path inside"),
            ({"code": "", "language": "python", "fetch_files": ["/etc/passwd"]}, "relative path inside"),
            ({"code": "", "language": "python", "stdin": 5}, "'stdin' must be a string"),
            ({"code": "a\u0000b", "language": "python"}, "NUL"),
        ]:
            status, _, body = self.srv.post("/run_code", json.dumps(payload))
            self.assertEqual(status, 400, (payload, body))
            self.assertIn(phrase, json.loads(body)["message"], payload)

    def test_not_json(self):
        for raw in (b"", b"{", b"[1, 2]", b"\xff\xfe"):
            status, _, body = self.srv.post("/run_code", raw)
            self.assertEqual(status, 400, (raw, body))
            self.assertIn(json.loads(body)["error"], ("invalid_json",))

    def test_not_found_and_method(self):
        status, _, body = self.srv.get("/run")
        self.check(status, body, 404, "not_found", "POST /run_code")
        status, headers, body = self.srv.get("/run_code")
        self.check(status, body, 405, "method_not_allowed")
        self.assertEqual(headers.get("Allow"), "POST")
        status, _, body = self.srv.post("/healthz", "{}")
        self.check(status, body, 405, "method_not_allowed")

    def test_access_log_line_per_request_and_no_injection(self):
        before = len(self.srv.access_lines())
        self.srv.get("/x%0A2026-01-01T00:00:00.000Z%20forged")
        self.srv.get("/healthz")
        self.assertTrue(wait_until(lambda: len(self.srv.access_lines()) == before + 2, 5))
        forged, health = self.srv.access_lines()[before:]
        self.assertEqual((forged.group(2), forged.group(4)), ("GET", "404"))
        self.assertEqual(forged.group(3), "/x?2026-01-01T00:00:00.000Z forged")
        self.assertEqual((health.group(3), health.group(4), health.group(7)), ("/healthz", "200", "0"))


class LimitTests(ServeTestCase):
    def test_body_too_large(self):
        srv = Server("--max-body", "1K")
        try:
            big = sf_request("x = '%s'" % ("a" * 4000))
            status, _, body = srv.post("/run_code", big)
            self.assertEqual(status, 413, body)
            self.assertIn("limit", json.loads(body)["message"])
            # curl sends Expect: 100-continue for large bodies: refused before it sends.
            p = subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-H", "Expect: 100-continue",
                                "--data-binary", "@-", srv.url("/v1/jobs")], input=big.encode() * 10,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            self.assertTrue(p.stdout.endswith(b"\n413"), p.stdout + p.stderr)
            # Still serving.
            self.assertEqual(srv.run_code("print(1)")[1]["status"], "Success")
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_connection_limit_holds_the_next_client_until_one_closes(self):
        srv = Server("--max-connections", "2")
        try:
            a = socket.create_connection(("127.0.0.1", srv.port))
            b = socket.create_connection(("127.0.0.1", srv.port))
            time.sleep(0.5)  # both accepted (asking /metrics would take a third connection)
            c = socket.create_connection(("127.0.0.1", srv.port))  # in the kernel's queue
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            c.settimeout(1)
            with self.assertRaises(socket.timeout):
                c.recv(100)
            a.close()
            c.settimeout(10)
            self.assertTrue(c.recv(100).startswith(b"HTTP/1.1 200 OK"))
            b.close()
            c.close()
        finally:
            srv.stop()

    def test_too_many_jobs(self):
        srv = Server("--max-jobs", "3")
        try:
            body = "\n".join(json.dumps({"id": str(i), "source": "pass"}) for i in range(4))
            status, _, out = srv.post("/v1/jobs", body)
            self.assertEqual(status, 413, out)
            self.assertEqual(json.loads(out)["error"], "too_many_jobs")
        finally:
            srv.stop()
        # More than the service can ever hold at once: 413, not a 503 to retry forever.
        srv = Server("--max-jobs", "10", "--queue", "1")
        try:
            body = "\n".join(json.dumps({"id": str(i), "source": "pass"}) for i in range(4))
            status, _, out = srv.post("/v1/jobs", body)
            self.assertEqual(status, 413, out)
            self.assertIn("holds at most 3", json.loads(out)["message"])
        finally:
            srv.stop()

    def test_queue_full_is_503_with_retry_after(self):
        srv = Server("--queue", "0", jobs=1)
        try:
            result = {}
            t = threading.Thread(target=lambda: result.update(
                r=srv.run_code("import time; time.sleep(2); print('done')")))
            t.start()
            self.assertTrue(wait_until(lambda: srv.metrics()["runbox_jobs_in_flight"] == 1, 30))
            status, headers, body = srv.post("/run_code", sf_request("print(2)"))
            self.assertEqual(status, 503, body)
            self.assertEqual(headers.get("Retry-After"), "1")
            self.assertEqual(json.loads(body)["error"], "queue_full")
            status, _, body = srv.post("/v1/jobs", json.dumps({"id": "x", "source": "pass"}))
            self.assertEqual(status, 503, body)
            t.join(60)
            self.assertEqual(result["r"][1]["run_result"]["stdout"], "done\n")
            self.assertEqual(srv.run_code("print(3)")[1]["status"], "Success")
        finally:
            srv.stop()

    def test_request_deadline_is_504(self):
        srv = Server("--request-timeout", "1")
        try:
            t0 = time.monotonic()
            status, _, body = srv.post("/run_code", sf_request("import time; time.sleep(20)", run_timeout=30))
            self.assertLess(time.monotonic() - t0, 10)
            self.assertEqual(status, 504, body)
            self.assertEqual(json.loads(body)["error"], "deadline")
            # In a stream, each job cut off gets an `internal` record.
            body = "\n".join(json.dumps(j) for j in [{"id": "quick", "source": "print(1)"},
                                                     {"id": "long", "source": "import time; time.sleep(20)",
                                                      "timeout": 30}])
            status, _, out = srv.post("/v1/jobs", body)
            recs = {r["id"]: r for r in map(json.loads, out.decode().splitlines())}
            self.assertEqual(recs["quick"]["status"], "ok")
            self.assertEqual(recs["long"]["status"], "internal")
            self.assertIn("deadline", recs["long"]["error"])
            self.assertTrue(wait_until(lambda: srv.metrics()["runbox_jobs_in_flight"] == 0, 10))
        finally:
            srv.stop()


class PodNameTests(ServeTestCase):
    def test_executor_pod_name_from_my_pod_name(self):
        srv = Server(env=dict(os.environ, MY_POD_NAME="runbox-7d9f-x2"))
        try:
            self.assertEqual(srv.run_code("print(1)")[1]["executor_pod_name"], "runbox-7d9f-x2")
        finally:
            srv.stop()


class TokenTests(ServeTestCase):
    def test_bearer_token(self):
        d = new_tmpdir("token")
        path = os.path.join(d, "token")
        with open(path, "w") as f:
            f.write("s3cret-token\n")
        srv = Server("--token-file", path)
        try:
            status, headers, body = srv.post("/run_code", sf_request("print(1)"))
            self.assertEqual(status, 401, body)
            self.assertEqual(headers.get("WWW-Authenticate"), 'Bearer realm="runbox"')
            self.assertIn("Authorization: Bearer", json.loads(body)["message"])
            status, _, _ = srv.post("/run_code", sf_request("print(1)"),
                                    {"Authorization": "Bearer wrong-token!"})
            self.assertEqual(status, 401)
            status, _, body = srv.post("/run_code", sf_request("print(1)"),
                                       {"Authorization": "Bearer s3cret-token"})
            self.assertEqual((status, json.loads(body)["status"]), (200, "Success"))
            self.assertEqual(srv.get("/metrics")[0], 401)
            self.assertEqual(srv.get("/metrics", {"Authorization": "Bearer s3cret-token"})[0], 200)
            self.assertEqual(srv.get("/healthz")[0], 200)  # probes carry no token
        finally:
            srv.stop()
        self.assertNotIn("warning: listening", srv.stderr())

    def test_beyond_loopback_warns_without_token(self):
        p = subprocess.Popen([RUNBOX, "serve", "--listen", "0.0.0.0:0", "-j", "1"], stderr=subprocess.PIPE,
                             stdout=subprocess.DEVNULL)
        try:
            err = b""
            while b"listening on" not in err:
                line = p.stderr.readline()
                if not line:
                    break
                err += line
            self.assertIn(b"without --token-file", err)
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(60)
            p.stderr.close()

    def test_ipv6_loopback(self):
        try:
            socket.socket(socket.AF_INET6).bind(("::1", 0))
        except OSError as e:
            self.skipTest("no IPv6 loopback here: %s" % e)
        p = subprocess.Popen([RUNBOX, "serve", "--listen", "[::1]:0", "-j", "1", "--no-access-log"],
                             stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
        try:
            line = p.stderr.readline().decode()
            m = re.search(r"listening on http://\[::1\]:(\d+) ", line)
            self.assertTrue(m, line)
            c = http.client.HTTPConnection("::1", int(m.group(1)), timeout=60)
            c.request("POST", "/run_code", body=sf_request("print(6)"))
            self.assertEqual(json.loads(c.getresponse().read())["run_result"]["stdout"], "6\n")
            c.close()
        finally:
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(60), 0)
            p.stderr.close()

    def test_bad_usage(self):
        for args, phrase in [(["--listen", "nope"], "--listen"), (["--max-body", "0"], "--max-body"),
                             (["--token-file", "/nonexistent/x"], "--token-file"), (["extra"], "unexpected")]:
            p = subprocess.run([RUNBOX, "serve"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=30)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(phrase.encode(), p.stderr)


class LifecycleTests(ServeTestCase):
    """Disconnects kill jobs; SIGTERM drains; SIGKILL leaves nothing."""

    def test_client_disconnect_kills_its_jobs(self):
        srv = Server()
        try:
            for path, body in [("/v1/jobs", json.dumps({"id": "s", "source": "import time; time.sleep(60)",
                                                       "timeout": 120})),
                               ("/run_code", sf_request("import time; time.sleep(60)", run_timeout=120))]:
                s = socket.create_connection(("127.0.0.1", srv.port))
                s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                           % (path, len(body), body)).encode())
                self.assertTrue(wait_until(lambda: srv.metrics()["runbox_jobs_in_flight"] == 1, 30), path)
                t0 = time.monotonic()
                s.close()
                self.assertTrue(wait_until(lambda: srv.metrics()["runbox_jobs_in_flight"] == 0, 10), path)
                self.assertLess(time.monotonic() - t0, 5, path)
            m = srv.metrics()
            self.assertEqual(m["runbox_jobs_cancelled_total"], 2)
            self.assertTrue(any("client_gone" in l.group(8) for l in srv.access_lines()), srv.stderr())
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_sigterm_lets_admitted_jobs_finish(self):
        srv = Server("--grace", "20")
        result = {}
        t = threading.Thread(target=lambda: result.update(
            r=srv.run_code("import time; time.sleep(1.5); print('finished')")))
        t.start()
        self.assertTrue(wait_until(lambda: srv.metrics()["runbox_jobs_in_flight"] == 1, 30))
        kept = []  # keep-alive connections opened before the signal
        for _ in range(2):
            c = srv.conn()
            c.request("GET", "/healthz")
            c.getresponse().read()
            kept.append(c)
        srv.proc.send_signal(signal.SIGTERM)
        self.assertTrue(wait_until(lambda: "shutting down" in srv.stderr(), 10))
        # Draining: no new connection is accepted; on open ones, /healthz says
        # so and a new job is refused.
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
        kept[0].request("GET", "/healthz")
        r = kept[0].getresponse()
        self.assertEqual((r.status, json.loads(r.read())["status"]), (503, "draining"))
        kept[1].request("POST", "/run_code", body=sf_request("print(1)"))
        r = kept[1].getresponse()
        self.assertEqual((r.status, json.loads(r.read())["error"]), (503, "shutting_down"))
        self.assertEqual(r.getheader("Connection"), "close")
        for c in kept:
            c.close()
        self.assertIsNone(srv.proc.poll(), "exited before its job finished")
        t.join(60)
        self.assertEqual(result["r"][0], 200)
        self.assertEqual(result["r"][1]["run_result"]["stdout"], "finished\n")
        self.assertEqual(srv.proc.wait(30), 0)
        srv.log.close()
        self.assertIn("shutting down", srv.stderr())
        self.assertIn("runbox serve: stopped", srv.stderr())
        with self.assertRaises(OSError):  # no longer accepting
            socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()

    def test_grace_period_cuts_off(self):
        srv = Server("--grace", "1")
        result = {}
        t = threading.Thread(target=lambda: result.update(
            r=srv.post("/run_code", sf_request("import time; time.sleep(60)", run_timeout=120))))
        t.start()
        self.assertTrue(wait_until(lambda: srv.metrics()["runbox_jobs_in_flight"] == 1, 30))
        zyg = zygotes_of(srv.pid)
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        t.join(60)
        self.assertEqual(srv.proc.wait(30), 0)
        self.assertLess(time.monotonic() - t0, 10)
        srv.log.close()
        status, _, body = result["r"]
        self.assertEqual(status, 503, body)
        self.assertEqual(json.loads(body)["error"], "shutting_down")
        self.assertFalse(wait_until(lambda: not alive(zyg), 10) is False)
        self.assertEqual(alive(zyg), [])

    def test_zygote_restart_is_counted_and_survived(self):
        srv = Server()
        try:
            self.assertEqual(srv.run_code("print(1)")[1]["status"], "Success")
            zygote = [p for p in zygotes_of(srv.pid) if p in children_of(srv.pid)]
            self.assertEqual(len(zygote), 1, zygotes_of(srv.pid))
            os.kill(zygote[0], signal.SIGKILL)
            self.assertTrue(wait_until(lambda: srv.metrics()["runbox_zygote_restarts_total"] == 1, 30))
            self.assertEqual(srv.run_code("print(2)")[1]["run_result"]["stdout"], "2\n")
            status, _, body = srv.get("/healthz")
            self.assertEqual((status, json.loads(body)["zygote_restarts"]), (200, 1))
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_sigkill_leaves_no_job_process(self):
        srv = Server()

        def client():
            try:
                srv.post("/run_code", sf_request("import time; time.sleep(60)", run_timeout=120))
            except (OSError, http.client.HTTPException):
                pass  # the service is killed under it
        t = threading.Thread(target=client)
        t.daemon = True
        t.start()
        self.assertTrue(wait_until(lambda: srv.metrics()["runbox_jobs_in_flight"] == 1, 30))
        procs = descendants_of(srv.pid)
        self.assertGreaterEqual(len(procs), 2, "expected the zygote and a worker")
        srv.stop(signal.SIGKILL)
        self.assertTrue(wait_until(lambda: alive(procs) == [], 10), "left behind: %s" % alive(procs))


class LoadTest(ServeTestCase):
    """256 concurrent connections for a bounded time, good, failing,
    timing-out and malformed requests mixed: every request answered
    correctly, nothing lost or duplicated, no process left, memory flat."""

    CONNECTIONS = 256
    SECONDS = 12

    def test_load(self):
        srv = Server("--queue", "1024", "--no-access-log")
        stop_at = time.monotonic() + self.SECONDS
        lock = threading.Lock()
        seen, problems, counts = set(), [], {}
        rss = []

        def one(conn, tag):
            kind = random.choices(["good", "fail", "timeout", "malformed", "stream"], [55, 15, 4, 16, 10])[0]
            if kind == "malformed":
                body = '{"code": "print(%d)", "language": ' % tag
            elif kind == "stream":
                body = "\n".join(json.dumps({"id": "%d-%d" % (tag, i), "source": "print(%d)" % i})
                                 for i in range(3))
            else:
                code = {"good": "print('tag-%d')" % tag,
                        "fail": "raise ValueError('tag-%d')" % tag,
                        "timeout": "import time; print('tag-%d', flush=True); time.sleep(5)" % tag}[kind]
                body = sf_request(code, run_timeout=0.5 if kind == "timeout" else 10)
            path = "/v1/jobs" if kind == "stream" else "/run_code"
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            ok = False
            if kind == "malformed":
                ok = r.status == 400 and json.loads(data)["error"] == "invalid_json"
            elif kind == "stream":
                recs = [json.loads(l) for l in data.decode().splitlines()]
                ok = r.status == 200 and sorted((x["id"], x["stdout"]) for x in recs) == \
                    [("%d-%d" % (tag, i), "%d\n" % i) for i in range(3)]
            else:
                resp = json.loads(data)
                rr = resp.get("run_result") or {}
                if kind == "good":
                    ok = resp["status"] == "Success" and rr["stdout"] == "tag-%d\n" % tag
                elif kind == "fail":
                    ok = resp["status"] == "Failed" and rr["return_code"] == 1 and \
                        ("ValueError: tag-%d" % tag) in rr["stderr"]
                else:
                    ok = resp["status"] == "Failed" and rr["status"] == "TimeLimitExceeded" and \
                        rr["stdout"] == "tag-%d\n" % tag
            with lock:
                counts[kind] = counts.get(kind, 0) + 1
                if tag in seen:
                    problems.append("tag %d answered twice" % tag)
                seen.add(tag)
                if not ok:
                    problems.append("%s tag %d: HTTP %s %r" % (kind, tag, r.status, data[:300]))

        next_tag = [0]
        sent = [0]

        def worker(reconnect):
            # Most clients keep their connection; a quarter open one per
            # request, as requests.post without a session (verl's way) does.
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
            try:
                while time.monotonic() < stop_at:
                    with lock:
                        next_tag[0] += 1
                        tag = next_tag[0]
                        sent[0] += 1
                    failed = False
                    try:
                        one(conn, tag)
                    except (OSError, http.client.HTTPException, ValueError) as e:
                        with lock:
                            problems.append("tag %d: %s: %s" % (tag, type(e).__name__, e))
                        failed = True
                    if reconnect or failed:
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
            finally:
                conn.close()

        def sample_rss():
            while time.monotonic() < stop_at:
                rss.append(srv.rss_kb())
                time.sleep(0.5)

        try:
            threads = [threading.Thread(target=worker, args=(i % 4 == 0,)) for i in range(self.CONNECTIONS)]
            sampler = threading.Thread(target=sample_rss)
            for t in threads:
                t.start()
            sampler.start()
            for t in threads:
                t.join(180)
            sampler.join(10)
            self.assertFalse(any(t.is_alive() for t in threads), "clients still waiting")
            self.assertEqual(problems[:20], [])
            self.assertEqual(len(seen), sent[0], "answers lost")
            for kind in ("good", "fail", "timeout", "malformed", "stream"):
                self.assertGreater(counts.get(kind, 0), 0, counts)
            m = srv.metrics()
            self.assertEqual(m["runbox_jobs_in_flight"], 0)
            self.assertEqual(m["runbox_queue_depth"], 0)
            self.assertEqual(m["runbox_jobs_cancelled_total"], 0)
            answered = sum(v for k, v in m.items() if k.startswith("runbox_http_requests_total"))
            self.assertGreaterEqual(answered, sent[0])
            if not SANITIZED and len(rss) >= 8:
                third = len(rss) // 3
                early, late = max(rss[:third]), max(rss[-third:])
                self.assertLess(late - early, 16 * 1024, "the service's memory grew: %s" % rss)
            print("\nload: %d requests over %d connections in %d s (%.0f/s): %s; RSS %s..%s KB"
                  % (sent[0], self.CONNECTIONS, self.SECONDS, sent[0] / self.SECONDS, counts,
                     rss[0] if rss else "?", rss[-1] if rss else "?"), file=sys.stderr)
            procs = descendants_of(srv.pid)
        finally:
            rc = srv.stop()
        self.assertEqual(rc, 0, srv.stderr())
        self.assertTrue(wait_until(lambda: alive(procs) == [], 10), "left behind: %s" % alive(procs))


class DocsExamples(SharedServer):
    """docs/service.md's examples, run as they are written (port 8080 becomes
    the test server's): each curl command against the fields of the JSON (or
    JSON lines) shown after it, the Python example, and the flags of the
    systemd unit and the Kubernetes Deployment."""

    VOLATILE = {"execution_time", "runtime", "cpu_time", "max_rss_kb", "in_flight", "admitted"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with open(os.path.join(SOURCE_ROOT, "docs", "service.md")) as f:
            cls.text = f.read()
        cls.blocks = re.findall(r"^```(\w*)\n(.*?)^```", cls.text, re.S | re.M)

    def local(self, text):
        return text.replace("localhost:8080", "127.0.0.1:%d" % self.srv.port)

    def assertSubset(self, want, got, where):
        if isinstance(want, dict):
            self.assertIsInstance(got, dict, where)
            for k, v in want.items():
                if k in self.VOLATILE:
                    self.assertIn(k, got, where)
                    continue
                self.assertIn(k, got, "%s: no %r in %r" % (where, k, got))
                self.assertSubset(v, got[k], "%s.%s" % (where, k))
        else:
            self.assertEqual(want, got, where)

    def test_curl_examples(self):
        checked = 0
        for i, (lang, text) in enumerate(self.blocks):
            if lang != "sh" or "curl " not in text:
                continue
            nxt_lang, expected = self.blocks[i + 1]
            p = subprocess.run(["bash", "-c", self.local(text)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=60)
            self.assertEqual(p.returncode, 0, (text, p.stderr))
            out = p.stdout.decode()
            if nxt_lang == "json":
                self.assertSubset(json.loads(expected), json.loads(out), text)
            elif nxt_lang == "jsonl":
                got = {r["id"]: r for r in map(json.loads, out.splitlines())}
                want = [json.loads(l) for l in expected.splitlines() if l.strip()]
                self.assertEqual(sorted(got), sorted(w["id"] for w in want), text)
                for w in want:
                    self.assertSubset(w, got[w["id"]], w["id"])
            else:
                self.fail("a curl example without its answer after it: %s" % text)
            checked += 1
        self.assertGreaterEqual(checked, 6)

    @unittest.skipIf(requests is None, "python3-requests is not installed")
    def test_python_example(self):
        code = [t for l, t in self.blocks if l == "python"]
        self.assertEqual(len(code), 1)
        exec(compile(self.local(code[0]), "docs/service.md", "exec"), {})

    def flags_start(self, args):
        """The service starts with `args` (its address and token made local)."""
        token = os.path.join(new_tmpdir("doc-token"), "token")
        with open(token, "w") as f:
            f.write("t\n")
        args = [a for a in args]
        args[args.index("--listen") + 1] = "127.0.0.1:0"
        args[args.index("--token-file") + 1] = token
        if "-j" in args:
            args[args.index("-j") + 1] = "1"
        srv = Server(*args[2:], jobs=1)
        self.assertEqual(srv.stop(), 0)

    def test_systemd_unit(self):
        with open(os.path.join(SOURCE_ROOT, "examples", "service", "runbox-serve.service")) as f:
            unit = f.read()
        ini = [t for l, t in self.blocks if l == "ini"][0]
        self.assertIn(ini, unit)
        exec_start = re.search(r"^ExecStart=(.*)$", unit, re.M).group(1).split()
        self.assertEqual(exec_start[:2], ["/usr/local/bin/runbox", "serve"])
        self.flags_start(exec_start)

    def test_kubernetes_deployment(self):
        with open(os.path.join(SOURCE_ROOT, "examples", "service", "deployment.yaml")) as f:
            manifest = f.read()
        yaml = [t for l, t in self.blocks if l == "yaml"][0]
        self.assertIn(yaml, manifest)
        self.assertIn("kind: Deployment", yaml)
        self.assertIn("kind: Service", yaml)
        cmd = re.search(r"command: \[(.*?)\]", yaml, re.S).group(1)
        args = [a.strip().strip('"') for a in cmd.replace("\n", " ").split(",")]
        self.assertEqual(args[:2], ["runbox", "serve"])
        self.flags_start(args)


def tearDownModule():
    cleanup_tmp_root()


if __name__ == "__main__":
    unittest.main(verbosity=2)
