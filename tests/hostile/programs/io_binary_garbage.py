"""Writes bytes that are not UTF-8, NULs, escape sequences and a huge line
to stdout and stderr: the record must stay valid JSON with the bytes kept."""
import os
os.write(1, b"MARK-START\x00\xff\xfe\xc3\x28\x1b[2J\x1b]0;pwned\x07\r\n")
os.write(1, b"\xed\xa0\x80 lone surrogate bytes\n")
os.write(2, b"\x80\x81\x82 not utf-8 on stderr\n")
os.write(1, b'{"id": "fake-record", "status": "ok"}\n')
os.write(1, b"L" * 200000 + b"\nMARK-END\n")
