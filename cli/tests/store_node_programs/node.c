/*
 * A node of the platform store's four-language test, in C: opens the node of a
 * govdata.toml with gd_platform_open, decides N requests (each recorded in the node's
 * audit log, and shipped by its shipper meanwhile), waits until the node's status says
 * the store holds them all, and prints the audit_seq of every acknowledged decision as
 * a JSON array. Exit 0 on success, 1 when the store did not catch up, 2 on an error.
 *
 *   node govdata.toml N
 */
#define _POSIX_C_SOURCE 200809L

#include "govdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char REQUEST[] =
    "{\"principal\": \"zhang.san\", \"action\": \"query\", \"resource\": \"hukou\","
    " \"context\": {\"scenario_risk\": \"low\"}}";

static int failed(const char *what, int status) {
    char message[512] = "";
    size_t len = 0;
    gd_last_error_message(message, sizeof message, &len);
    fprintf(stderr, "%s: status %d: %s\n", what, status, message);
    return 2;
}

/* The number after `"key":` in a JSON text, or -1. */
static long long number(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *at = strstr(json, pattern);
    if (at == NULL) return -1;
    at += strlen(pattern);
    while (*at == ' ') at++;
    if (*at < '0' || *at > '9') return -1;
    return strtoll(at, NULL, 10);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s govdata.toml N\n", argv[0]);
        return 2;
    }
    long n = atol(argv[2]);
    gd_platform *node = NULL;
    int st = gd_platform_open(argv[1], &node);
    if (st != GD_OK) return failed("gd_platform_open", st);
    gd_engine *engine = NULL;
    st = gd_platform_engine(node, &engine);
    if (st != GD_OK) return failed("gd_platform_engine", st);

    long long *seqs = malloc(sizeof *seqs * (size_t)(n > 0 ? n : 1));
    if (seqs == NULL) return 2;
    for (long i = 0; i < n; i++) {
        char *decision = NULL;
        st = gd_engine_decide_json(engine, REQUEST, &decision);
        if (st != GD_OK) return failed("gd_engine_decide_json", st);
        if (strstr(decision, "\"decision\":\"allow\"") == NULL) {
            fprintf(stderr, "not allowed: %s\n", decision);
            return 2;
        }
        seqs[i] = number(decision, "audit_seq");
        gd_string_free(decision);
    }

    /* The store holds everything once the status shows no lag and no error. */
    int caught_up = 0;
    for (int tries = 0; tries < 6000 && !caught_up; tries++) {
        char *status = NULL;
        st = gd_platform_status_json(node, &status);
        if (st != GD_OK) return failed("gd_platform_status_json", st);
        caught_up = number(status, "lag_records") == 0 && number(status, "shipped_seq") >= n &&
                    strstr(status, "\"last_error\":null") != NULL;
        if (!caught_up && tries == 5999) fprintf(stderr, "not shipped: %s\n", status);
        gd_string_free(status);
        if (!caught_up) {
            struct timespec pause = {0, 100 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }

    printf("[");
    for (long i = 0; i < n; i++) printf(i ? ",%lld" : "%lld", seqs[i]);
    printf("]\n");
    free(seqs);
    gd_engine_free(engine);
    gd_platform_free(node);
    return caught_up ? 0 : 1;
}
