/*
 * The assertions of the C tests: each CHECK counts as a pass or a failure, a failure
 * prints where and why, and the run ends with "NAME: N passed, N failed".
 */
#ifndef GOVDATA_TESTS_CHECK_H
#define GOVDATA_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

#include "govdata.h"

static int check_passed = 0;
static int check_failed = 0;

static inline void check_report(int ok, const char *file, int line, const char *what) {
    if (ok) {
        check_passed++;
        return;
    }
    check_failed++;
    char msg[512];
    size_t len = 0;
    int rc = gd_last_error_message(msg, sizeof msg, &len);
    fprintf(stderr, "FAIL %s:%d: %s (last error [%s]: %s)\n", file, line, what,
            gd_status_name(rc) ? gd_status_name(rc) : "?", msg);
}

#define CHECK(cond) check_report((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

/* Checks that `call` returns `expected`, naming both on failure. */
#define CHECK_RC(call, expected)                                                          \
    do {                                                                                  \
        int check_rc_ = (call);                                                           \
        check_status_seen(check_rc_);                                                     \
        if (check_rc_ != (int)(expected)) {                                               \
            char check_what_[512];                                                        \
            snprintf(check_what_, sizeof check_what_, "%s returned %s (%d), expected %s", \
                     #call, gd_status_name(check_rc_) ? gd_status_name(check_rc_) : "?",  \
                     check_rc_, #expected);                                               \
            check_report(0, __FILE__, __LINE__, check_what_);                             \
        } else {                                                                          \
            check_report(1, __FILE__, __LINE__, #call);                                   \
        }                                                                                 \
    } while (0)

/* Which statuses the tests have seen a call return. */
static int check_seen[256];

static inline void check_status_seen(int rc) {
    if (rc >= 0 && rc < 256) check_seen[rc] = 1;
}

static inline int check_summary(const char *name) {
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed == 0 ? 0 : 1;
}

#endif /* GOVDATA_TESTS_CHECK_H */
