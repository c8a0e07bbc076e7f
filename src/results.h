/* Result records: one JSON object per line, written as each job ends. */
#ifndef RB_RESULTS_H
#define RB_RESULTS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "runbox.h"
#include "util.h"

/* Appends `s` (`len` bytes, any content) to `out` as a JSON string literal.
 * Valid UTF-8 passes through; quotes, backslashes and control characters are
 * escaped; every byte that is not part of valid UTF-8 becomes \udcXX, as
 * Python's "surrogateescape" handler writes it, so nothing is dropped and
 * json.loads(...).encode("utf-8", "surrogateescape") gives the bytes back. */
int rb_json_quote_bytes(struct rb_buf *out, const char *s, size_t len);

/* Adds `s` under `key` as a string (escaped as above), or null when s is NULL. */
int rb_json_add_bytes(cJSON *obj, const char *key, const char *s, size_t len);

/* Adds "tracked_files" (an object of path: contents, paths escaped as
 * the data is; absent files left out) and, when any was cut at the limit,
 * "tracked_files_truncated" (their paths). 0 or -ENOMEM. */
int rb_json_add_tracked(cJSON *obj, const rb_tracked_file *tracked, size_t n);

/* How many failing calls a record details in "call_failures". */
#define RB_CALL_FAILURES_SHOWN 10

/* "passed", "wrong", ... as records spell a call's status. */
const char *rb_call_status_name(rb_call_status s);

/* Adds "passed", "calls_passed", "calls" (each call's status) and
 * "call_failures" (the first failing calls with their arguments, returned
 * and expected values as Python prints them). 0 or -ENOMEM. */
int rb_json_add_calls(cJSON *o, const rb_call_result *calls, size_t n);

/* The record of one result, with the documented fields in their documented
 * order. The caller owns the tree (cJSON_Delete). */
cJSON *rb_result_to_json(const rb_result *r);

/* Prints `record` as one line of JSON, without a newline but with room for
 * one after the NUL; *len is its length. malloc'd (free), NULL when out of
 * memory. */
char *rb_record_print(const cJSON *record, size_t *len);

/* Prints `record` as one line (newline included) and writes it to `fd` in a
 * single write where possible, so a crash leaves at most a torn last line. */
int rb_record_write(int fd, const cJSON *record);

/* Parses a results line as runbox wrote it. Bytes that were not UTF-8 are
 * written as lone surrogate escapes (\udc80 to \udcff), which cJSON
 * refuses; they are read back here as the bytes they stand for, so an id or
 * output with such bytes round-trips (--resume, eval's journal, passk,
 * merge). NULL when the line is not JSON. */
cJSON *rb_record_parse(const char *line, size_t len);

/* The text of a record's string field (written raw, see rb_json_add_bytes),
 * decoded; malloc'd, or NULL when the field is absent or not a string. */
char *rb_record_string(const cJSON *rec, const char *key);

/* The key a results file is indexed by for an invalid line that had no
 * usable id (or a duplicate's): its line number, after a NUL byte no id can
 * start with. Written into `buf`; returns the key's length. */
size_t rb_record_line_key(char *buf, size_t len, long line_no);

#endif
