#include <stdio.h>
#include <string.h>

#include "idset.h"
#include "testutil.h"

START_TEST(adds_and_finds)
{
    struct rb_idset s = { 0 };
    ck_assert_int_eq(rb_idset_add(&s, "a", 1, 10, NULL), 1);
    ck_assert_int_eq(rb_idset_add(&s, "b", 1, 20, NULL), 1);
    ck_assert(rb_idset_contains(&s, "a", 1));
    ck_assert(rb_idset_contains(&s, "b", 1));
    ck_assert(!rb_idset_contains(&s, "c", 1));
    ck_assert(!rb_idset_contains(&s, "ab", 2));
    ck_assert_uint_eq(s.count, 2);
    rb_idset_free(&s);
}
END_TEST

START_TEST(duplicate_reports_first_value)
{
    struct rb_idset s = { 0 };
    uint64_t first = 0;
    ck_assert_int_eq(rb_idset_add(&s, "job", 3, 7, NULL), 1);
    ck_assert_int_eq(rb_idset_add(&s, "job", 3, 99, &first), 0);
    ck_assert_uint_eq(first, 7);
    ck_assert_uint_eq(s.count, 1);
    rb_idset_free(&s);
}
END_TEST

START_TEST(empty_set_contains_nothing)
{
    struct rb_idset s = { 0 };
    ck_assert(!rb_idset_contains(&s, "x", 1));
    ck_assert(!rb_idset_contains(&s, "", 0));
    rb_idset_free(&s);
}
END_TEST

START_TEST(embedded_nul_is_part_of_the_id)
{
    struct rb_idset s = { 0 };
    ck_assert_int_eq(rb_idset_add(&s, "\0line:5", 7, 0, NULL), 1);
    ck_assert(!rb_idset_contains(&s, "", 0));
    ck_assert(!rb_idset_contains(&s, "\0line:6", 7));
    ck_assert(rb_idset_contains(&s, "\0line:5", 7));
    rb_idset_free(&s);
}
END_TEST

START_TEST(grows_to_many_ids)
{
    struct rb_idset s = { 0 };
    char id[32];
    for (int i = 0; i < 200000; i++) {
        int n = snprintf(id, sizeof id, "task/%d", i);
        ck_assert_int_eq(rb_idset_add(&s, id, (size_t)n, (uint64_t)i, NULL), 1);
    }
    ck_assert_uint_eq(s.count, 200000);
    for (int i = 0; i < 200000; i++) {
        int n = snprintf(id, sizeof id, "task/%d", i);
        uint64_t v = 0;
        ck_assert_int_eq(rb_idset_add(&s, id, (size_t)n, 0, &v), 0);
        ck_assert_uint_eq(v, (uint64_t)i);
    }
    int n = snprintf(id, sizeof id, "task/%d", 200000);
    ck_assert(!rb_idset_contains(&s, id, (size_t)n));
    /* Load stays under 3/4. */
    ck_assert(s.count * 4 <= s.cap * 3);
    rb_idset_free(&s);
}
END_TEST

START_TEST(hash_spreads_similar_ids)
{
    /* Ids that differ in one character must land in different low bits often. */
    int same = 0;
    for (int i = 0; i < 1000; i++) {
        char a[16], b[16];
        int na = snprintf(a, sizeof a, "HumanEval/%d", i);
        int nb = snprintf(b, sizeof b, "HumanEval/%d", i + 1);
        same += (rb_id_hash(a, (size_t)na) & 1023) == (rb_id_hash(b, (size_t)nb) & 1023);
    }
    ck_assert_int_lt(same, 10);
    ck_assert_uint_ne(rb_id_hash("", 0), 0);
}
END_TEST

static Suite *idset_suite(void)
{
    Suite *s = suite_create("idset");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, adds_and_finds);
    tcase_add_test(tc, duplicate_reports_first_value);
    tcase_add_test(tc, empty_set_contains_nothing);
    tcase_add_test(tc, embedded_nul_is_part_of_the_id);
    tcase_add_test(tc, grows_to_many_ids);
    tcase_add_test(tc, hash_spreads_similar_ids);
    suite_add_tcase(s, tc);
    return s;
}

RB_CHECK_MAIN(idset_suite)
