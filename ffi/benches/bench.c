/*
 * Decisions per second through the C API — the fast path (gd_engine_check) and the
 * JSON call (gd_engine_decide_json + gd_string_free) — against the same decisions
 * made by Rust code in the same process (exports of the `testing` feature that loop
 * over Engine::decide(&Request::new(..)) and Engine::decide_json(..).to_json_string()).
 * Each side runs the same requests the same number of times, single-threaded; the
 * trials alternate between the sides and the median is reported. The allow counts
 * of all four loops must agree, or the bench fails.
 *
 *   bash scripts/bench-c.sh
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "govdata.h"

int gd_testing_bench_rust_check(const gd_engine *engine, const char *const *principals,
                                const char *const *actions, const char *const *datasets,
                                size_t n, size_t rounds, uint64_t *out_allowed, uint64_t *out_nanos);
int gd_testing_bench_rust_decide_json(const gd_engine *engine, const char *const *requests,
                                      size_t n, size_t rounds, uint64_t *out_allowed,
                                      uint64_t *out_nanos);

/* A mix of allows and denies over the example city, on datasets of every grade. */
static const char *const principals[] = {
    "zhang.san", "zhang.san", "li.si", "li.si", "wang.wu", "vendor.wang", "zhou.ba", "ops.engineer",
    "yunwei.ops", "vendor.li", "jiaotong.analyst", "chen.yi", "huzheng.analyst", "zhao.liu", "dba.chen", "key.admin",
};
static const char *const actions[] = {
    "query", "modify", "modify", "export", "query", "export", "query", "backup",
    "query", "export", "query", "query", "query", "process", "restore", "manage_keys",
};
static const char *const datasets[] = {
    "population-stats", "population-stats", "population-stats", "hukou", "employment-stats", "population-stats",
    "medical-records", "hukou", "traffic-flow", "hukou", "traffic-flow", "subsidy-list", "population-stats",
    "employment-stats", "hukou", "medical-records",
};
#define N (sizeof principals / sizeof principals[0])

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_u64);
    return v[n / 2];
}

static void fail(const char *what, int rc) {
    char msg[1024];
    size_t len;
    gd_last_error_message(msg, sizeof msg, &len);
    fprintf(stderr, "%s: %s: %s\n", what, gd_status_name(rc), msg);
    exit(1);
}

int main(int argc, char **argv) {
    size_t rounds = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 2000;
    size_t trials = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 7;
    if (rounds == 0 || trials == 0 || trials > 64) { fprintf(stderr, "usage: bench [rounds] [trials<=64]\n"); return 2; }

    gd_engine *engine = NULL;
    int rc = gd_engine_new_default(&engine);
    if (rc != GD_OK) fail("gd_engine_new_default", rc);

    size_t plen[N], alen[N], dlen[N];
    char *json[N];
    for (size_t i = 0; i < N; i++) {
        plen[i] = strlen(principals[i]);
        alen[i] = strlen(actions[i]);
        dlen[i] = strlen(datasets[i]);
        json[i] = malloc(256);
        snprintf(json[i], 256, "{\"principal\":\"%s\",\"action\":\"%s\",\"resource\":\"%s\"}",
                 principals[i], actions[i], datasets[i]);
    }

    uint64_t t_fast[64], t_rust_fast[64], t_json[64], t_rust_json[64];
    uint64_t allowed_fast = 0, allowed_rust_fast = 0, allowed_json = 0, allowed_rust_json = 0;
    size_t decisions = rounds * N;

    /* Warm-up: the per-thread compiled policies and the allocator. */
    uint64_t a, ns;
    gd_testing_bench_rust_check(engine, principals, actions, datasets, N, 50, &a, &ns);

    for (size_t t = 0; t < trials; t++) {
        uint32_t ob;
        uint64_t allowed = 0;
        uint64_t start = now_ns();
        for (size_t r = 0; r < rounds; r++) {
            for (size_t i = 0; i < N; i++) {
                rc = gd_engine_check(engine, principals[i], plen[i], actions[i], alen[i], GD_RESOURCE_DATASET,
                                     datasets[i], dlen[i], NULL, 0, &ob);
                if (rc == GD_OK) allowed++;
                else if (rc != GD_DENIED) fail("gd_engine_check", rc);
            }
        }
        t_fast[t] = now_ns() - start;
        allowed_fast = allowed;

        rc = gd_testing_bench_rust_check(engine, principals, actions, datasets, N, rounds, &allowed_rust_fast, &t_rust_fast[t]);
        if (rc != GD_OK) fail("gd_testing_bench_rust_check", rc);

        allowed = 0;
        start = now_ns();
        for (size_t r = 0; r < rounds; r++) {
            for (size_t i = 0; i < N; i++) {
                char *out = NULL;
                rc = gd_engine_decide_json(engine, json[i], &out);
                if (rc != GD_OK) fail("gd_engine_decide_json", rc);
                if (strncmp(out, "{\"decision\":\"allow\"", 19) == 0) allowed++;
                gd_string_free(out);
            }
        }
        t_json[t] = now_ns() - start;
        allowed_json = allowed;

        rc = gd_testing_bench_rust_decide_json(engine, (const char *const *)json, N, rounds, &allowed_rust_json, &t_rust_json[t]);
        if (rc != GD_OK) fail("gd_testing_bench_rust_decide_json", rc);
    }

    if (allowed_fast != allowed_rust_fast || allowed_fast != allowed_json || allowed_fast != allowed_rust_json) {
        fprintf(stderr, "the four loops disagree: %llu %llu %llu %llu allows\n",
                (unsigned long long)allowed_fast, (unsigned long long)allowed_rust_fast,
                (unsigned long long)allowed_json, (unsigned long long)allowed_rust_json);
        return 1;
    }

    double fast = median(t_fast, trials), rust_fast = median(t_rust_fast, trials);
    double js = median(t_json, trials), rust_js = median(t_rust_json, trials);
    printf("%zu requests x %zu rounds = %zu decisions per loop (%llu allows), median of %zu trials, 1 thread\n",
           N, rounds, decisions, (unsigned long long)allowed_fast, trials);
    printf("%-44s %12s %10s\n", "loop", "decisions/s", "ns/decision");
    printf("%-44s %12.0f %10.0f\n", "Rust Engine::decide(&Request::new(..))", decisions / (rust_fast / 1e9), rust_fast / decisions);
    printf("%-44s %12.0f %10.0f\n", "C gd_engine_check (fast path)", decisions / (fast / 1e9), fast / decisions);
    printf("%-44s %12.0f %10.0f\n", "Rust Engine::decide_json + to_json_string", decisions / (rust_js / 1e9), rust_js / decisions);
    printf("%-44s %12.0f %10.0f\n", "C gd_engine_decide_json + gd_string_free", decisions / (js / 1e9), js / decisions);
    printf("fast path / Rust: %.3fx (target <= 1.2x)\n", fast / rust_fast);
    printf("JSON call / Rust JSON: %.3fx\n", js / rust_js);
    printf("JSON call / fast path: %.2fx\n", js / fast);

    for (size_t i = 0; i < N; i++) free(json[i]);
    gd_engine_free(engine);
    return fast / rust_fast <= 1.2 ? 0 : 3;
}
