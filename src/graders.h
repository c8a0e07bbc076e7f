/*
 * The Python graders' stdin/stdout comparisons, in C (graders.c): each
 * says whether a program's output `got` matches the expected `want` the
 * way the grader's own code decides. compare.c's table says which format
 * uses which.
 */
#ifndef RB_GRADERS_H
#define RB_GRADERS_H

#include <stdbool.h>

#include "pytext.h"

/* LiveCodeBench (lcb_runner/evaluation/testing_util.py, grade_stdio). */
bool rb_lcb_output_matches(struct rb_span got, struct rb_span want);
/* APPS (eval/testing_util.py, run_test's standard-input branch). */
bool rb_apps_output_matches(struct rb_span got, struct rb_span want);
/* TACO (metrics/testing_util.py, compare_std_results). */
bool rb_taco_output_matches(struct rb_span got, struct rb_span want);

#endif
