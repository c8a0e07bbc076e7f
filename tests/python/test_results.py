"""runbox.Result: the record's fields as attributes and keys."""

import pickle

import pytest

import runbox


def test_fields_as_attributes_and_keys(pool):
    r = pool.submit({"id": "r", "source": "'''Doc.'''\nprint('out')"}).result()
    assert r.status == r["status"] == "ok"
    assert r.stdout == r["stdout"] == "out\n"
    assert r.doc == "Doc."
    assert "namespace" not in r
    with pytest.raises(AttributeError, match="no field 'namespace'"):
        r.namespace
    with pytest.raises(KeyError):
        r["namespace"]
    assert r.get("namespace") is None
    assert dict(r.items())["id"] == "r"
    assert len(r) == len(r.keys()) == 16


def test_to_dict_is_a_copy():
    r = runbox.Result({"id": "a", "status": "ok", "cases": [{"passed": True}]})
    d = r.to_dict()
    d["cases"][0]["passed"] = False
    d["status"] = "error"
    assert r.status == "ok" and r.cases[0]["passed"] is True


def test_read_only_equal_picklable_and_printable():
    r = runbox.Result({"id": "a", "status": "error", "return_code": 1, "error": "ValueError: x",
                       "stdout": "y" * 100})
    with pytest.raises(AttributeError):
        r.status = "ok"
    assert r == runbox.Result(r.to_dict()) == r.to_dict()
    assert pickle.loads(pickle.dumps(r)) == r
    assert repr(r).startswith("Result(id='a', status='error', return_code=1, stdout='yyy")
    assert not r.ok


def test_opaque_values():
    o = runbox.Opaque(repr="<object at 0x1>")
    assert repr(o) == "<object at 0x1>"
    assert o == runbox.Opaque(repr="<object at 0x1>")
    assert "unrepresentable" in repr(runbox.Opaque(error="ValueError: no"))
