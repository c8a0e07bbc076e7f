#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz_problems, fuzz_compare and fuzz_record
into tests/fuzz/corpus/{problems,compare,record}/; this script is their
readable source. Run it after changing a target's input layout.

problems: whole problems files, as HumanEval (JSON lines, maybe gzipped) and
MBPP (a JSON array, or JSON lines) ship them, the two smallest real records of
each (HumanEval is MIT-licensed, MBPP CC BY 4.0), and the files a loader must
refuse or survive.

compare: one byte choosing the tolerance (fuzz_compare.c's table), then the
program's output, a 0xff byte, the expected output.

record: results lines as runbox writes them (docs/results.md), torn and
edited ones, and the escapes rb_record_parse treats specially.
"""
import gzip
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))

HUMANEVAL = [
    {"task_id": "HumanEval/34",
     "prompt": "\n\ndef unique(l: list):\n    \"\"\"Return sorted unique elements in a list\n"
               "    >>> unique([5, 3, 5, 2, 3, 3, 9, 0, 123])\n    [0, 2, 3, 5, 9, 123]\n    \"\"\"\n",
     "entry_point": "unique", "canonical_solution": "    return sorted(list(set(l)))\n",
     "test": "\n\nMETADATA = {}\n\n\ndef check(candidate):\n"
             "    assert candidate([5, 3, 5, 2, 3, 3, 9, 0, 123]) == [0, 2, 3, 5, 9, 123]\n\n"},
    {"task_id": "HumanEval/45",
     "prompt": "\n\ndef triangle_area(a, h):\n    \"\"\"Given length of a side and high return area "
               "for a triangle.\n    >>> triangle_area(5, 3)\n    7.5\n    \"\"\"\n",
     "entry_point": "triangle_area", "canonical_solution": "    return a * h / 2.0\n",
     "test": "\n\nMETADATA = {}\n\n\ndef check(candidate):\n    assert candidate(5, 3) == 7.5\n"
             "    assert candidate(2, 2) == 2.0\n    assert candidate(10, 8) == 40.0\n\n"},
]

MBPP = [
    {"source_file": "Benchmark Questions Verification V2.ipynb", "task_id": 269,
     "prompt": "Write a function to find the ascii value of a character.",
     "code": "def ascii_value(k):\n  ch=k\n  return ord(ch)", "test_imports": [],
     "test_list": ["assert ascii_value('A')==65", "assert ascii_value('R')==82",
                   "assert ascii_value('S')==83"]},
    {"source_file": "Benchmark Questions Verification V2.ipynb", "task_id": 268,
     "prompt": "Write a function to find the n'th star number.",
     "code": "def find_star_num(n): \n\treturn (6 * n * (n - 1) + 1) ",
     "test_imports": ["import math"],
     "test_list": ["assert find_star_num(3) == 37", "assert find_star_num(4) == 73",
                   "assert find_star_num(5) == 121"]},
]


def lines(records):
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def problems_seeds():
    he, mb = HUMANEVAL, MBPP
    he0 = dict(he[0])
    yield "humaneval.jsonl", lines(he)
    yield "humaneval.jsonl.gz", gzip.compress(lines(he), mtime=0)
    yield "humaneval-crlf-blank-lines.jsonl", b"\r\n  \n" + lines(he).replace(b"\n", b"\r\n\n")
    yield "humaneval-no-final-newline.jsonl", lines(he)[:-1]
    yield "evalplus-extra-fields.jsonl", lines([dict(he0, contract="\n", base_input=[[1, 2]],
                                                      atol=0, plus_input=[[[0] * 3]])])
    yield "mbpp-array.json", json.dumps(mb, indent=1).encode()
    yield "mbpp-lines.jsonl", lines(mb)
    yield "mbpp-lines.jsonl.gz", gzip.compress(lines(mb), mtime=0)
    # Refused or odd, each for its own rule.
    yield "empty", b""
    yield "blank-only", b"\n \t\r\n"
    yield "not-json", b"{\"task_id\": \"HumanEval/0\", \"prompt\": \n"
    yield "array-not-closed.json", b"[" + json.dumps(mb[0]).encode()
    yield "array-of-numbers.json", b"[1, 2, 3]"
    yield "duplicate-task-id.jsonl", lines([he[0], he[0]])
    yield "duplicate-number-and-string-id.jsonl", lines([dict(mb[0], task_id=11),
                                                          dict(mb[1], task_id="11")])
    yield "mixed-kinds.jsonl", lines([he[0], mb[0]])
    yield "neither-kind.jsonl", lines([{"task_id": "x", "prompt": "p"}])
    yield "both-kinds.jsonl", lines([dict(he0, test_list=["assert 1"])])
    yield "missing-test.jsonl", lines([{k: v for k, v in he0.items() if k != "test"}])
    yield "entry-point-number.jsonl", lines([dict(he0, entry_point=3)])
    yield "task-id-float.jsonl", lines([dict(mb[0], task_id=1.5)])
    yield "task-id-huge.jsonl", lines([dict(mb[0], task_id=1e300), dict(mb[1], task_id=-0.0)])
    yield "task-id-big-int.jsonl", lines([dict(mb[0], task_id=999999999999999),
                                           dict(mb[1], task_id=1000000000000000)])
    yield "task-id-null.jsonl", lines([dict(mb[0], task_id=None)])
    yield "test-list-empty.jsonl", lines([dict(mb[0], test_list=[])])
    yield "test-list-not-strings.jsonl", lines([dict(mb[0], test_list=["assert 1", 2])])
    yield "test-imports-not-array.jsonl", lines([dict(mb[0], test_imports="import os")])
    yield "nul-escape.jsonl", lines([dict(he0, prompt="def f():\u0000\n", task_id="a\u0000b")])
    yield "lone-surrogate.jsonl", b'{"task_id": "\\ud800", "prompt": "\\udc80", "test": "", "entry_point": "f"}\n'
    yield "invalid-utf8.jsonl", b'{"task_id": "\xff\xfe", "prompt": "\xc3(", "test": "\xed\xa0\x80", "entry_point": "\xf4\x90\x80\x80"}\n'
    yield "raw-nul-byte.jsonl", lines([he[0]])[:40] + b"\0" + lines([he[1]])
    yield "deep-nesting.jsonl", (b'{"task_id": "d", "test_list": ' + b"[" * 2000 + b"]" * 2000 + b"}\n")
    yield "many-small.jsonl", lines([{"task_id": i, "test_list": ["assert True"]} for i in range(300)])
    yield "gzip-truncated.gz", gzip.compress(lines(he), mtime=0)[:60]
    yield "gzip-then-garbage.gz", gzip.compress(lines(mb), mtime=0) + b"\x1f\x8bgarbage"


def compare_seeds():
    sep = b"\xff"
    yield "tokens-equal", b"\x00" + b"1 2 3\n" + sep + b"1  2\t3"
    yield "tokens-differ", b"\x00" + b"YES\n" + sep + b"yes\n"
    yield "trailing-whitespace", b"\x00" + b"42\r\n\r\n" + sep + b"42"
    yield "floats-close", b"\x02" + b"0.3333333 1e-7\n" + sep + b"0.33333333333 0\n"
    yield "floats-far", b"\x03" + b"1.5 2.5\n" + sep + b"1.5 2.6\n"
    yield "floats-big", b"\x05" + b"1e308 -1e308 1.7976931348623157e308\n" + sep + b"inf -inf 1e309\n"
    yield "not-numbers", b"\x06" + b"nan NaN 0x10 infinity 1e\n" + sep + b"nan nan 16 inf 1\n"
    yield "long-number", b"\x01" + b"0." + b"1" * 300 + sep + b"0.1"
    yield "nul-bytes", b"\x00" + b"a\0b c" + sep + b"a\0b  c"
    yield "empty-vs-space", b"\x00" + sep + b" \n\t\v\f\r"
    yield "only-got", b"\x04" + b"no separator at all 3.0"
    yield "utf8", b"\x00" + "héllo wörld ✓\n".encode() + sep + "héllo  wörld ✓".encode()


def record_seeds():
    ok = {"id": "p1", "status": "ok", "return_code": 0, "timed_out": False, "runtime": 0.012,
          "cpu_time": 0.01, "max_rss_kb": 9400, "stdout": "cba\n", "stdout_truncated": False,
          "stderr": "", "stderr_truncated": False, "error": None, "error_detail": None,
          "doc": None, "signal": None, "had_unexpected_error": False}
    line = json.dumps(ok).encode()
    yield "ok.json", line + b"\n"
    yield "torn.json", line[:57]
    yield "not-utf8-bytes.json", line.replace(b'"cba\\n"', b'"caf\\udce9 \\udcff\\udc80"')
    yield "escaped-backslash-udc.json", b'{"stdout": "\\\\udc80 is text"}'
    yield "surrogate-pair.json", b'{"stdout": "\\ud83d\\ude00 \\ud800\\udc80 \\udbff\\udcff"}'
    yield "lone-high.json", b'{"stdout": "\\ud800 \\udc7f \\uDCFF"}'
    yield "cut-escapes.json", b'{"stdout": "\\udc8'
    yield "backslash-at-end.json", b'{"id": "a\\'
    yield "udc-outside-strings.json", b'{"a": 1} \\udc80 "\\udc80'
    yield "bytes-for-quoting", bytes(range(1, 256)) + b"\0after"


def write(name, seeds):
    out = os.path.join(HERE, "corpus", name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    for fname, data in seeds:
        with open(os.path.join(out, fname), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write("problems", problems_seeds())
    write("compare", compare_seeds())
    write("record", record_seeds())
