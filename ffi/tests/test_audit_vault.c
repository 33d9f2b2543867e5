/*
 * The audit log and the vault through the C API, function by function: results,
 * the statuses each call can return, and bad input of every kind. Decisions are
 * recorded with their audit_seq and the log verifies; a flipped byte in a segment is
 * GD_ERR_AUDIT_TAMPERED naming the record. Buffers and files round-trip through the
 * vault; changed ciphertext is GD_ERR_CRYPTO_AUTH_FAILED and leaves no output file;
 * after a shred, decryption is GD_ERR_KEY_DESTROYED; a vendor's key operation is
 * GD_ERR_ACCESS_DENIED. Run as: test_audit_vault (under valgrind in scripts/test-c.sh).
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "govdata.h"
#include "minijson.h"

static gd_audit *const SENTINEL_AUDIT = (gd_audit *)(uintptr_t)0x5e17;
static gd_vault *const SENTINEL_VAULT = (gd_vault *)(uintptr_t)0x5e17;
static char *const SENTINEL_STRING = (char *)(uintptr_t)0x5e17;
static uint8_t *const SENTINEL_BUFFER = (uint8_t *)(uintptr_t)0x5e17;

static char root[256];
static uint8_t audit_key[GD_AUDIT_KEY_LEN];
static uint8_t master_key[GD_VAULT_KEY_LEN];

/* This thread's last error message (a static buffer). */
static const char *last_error(void) {
    static char buf[4096];
    size_t len = 0;
    if (gd_last_error_message(buf, sizeof buf, &len) != GD_OK) return "<unreadable>";
    return buf;
}

static void path_in(char *out, size_t size, const char *name) {
    snprintf(out, size, "%s/%s", root, name);
}

static long long number(const mj *obj, const char *key) {
    const mj *v = mj_get(obj, key);
    return (v != NULL && v->type == MJ_NUMBER) ? strtoll(v->text, NULL, 10) : -1;
}

static int is_null(const mj *obj, const char *key) {
    const mj *v = mj_get(obj, key);
    return v != NULL && v->type == MJ_NULL;
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void write_bytes(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len) { perror(path); exit(2); }
    fclose(f);
}

static uint8_t *read_bytes(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}

/* Whether `needle` occurs in the `len` bytes at `data`. */
static int contains(const uint8_t *data, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++) {
        if (memcmp(data + i, needle, n) == 0) return 1;
    }
    return 0;
}

/* The offset of the last occurrence of `needle` in the file, or -1. The open segment
 * is padded with zeros ahead of its records, so its size says nothing of where the
 * records end: a record is found by its content. */
static long find_last(const char *path, const char *needle) {
    size_t len = 0, n = strlen(needle);
    uint8_t *data = read_bytes(path, &len);
    long found = -1;
    if (data == NULL) return -1;
    for (size_t i = 0; n <= len && i + n <= len; i++) {
        if (memcmp(data + i, needle, n) == 0) found = (long)i;
    }
    free(data);
    return found;
}

static void flip_byte(const char *path, long offset) {
    FILE *f = fopen(path, "r+b");
    if (f == NULL) { perror(path); exit(2); }
    fseek(f, offset, SEEK_SET);
    int c = fgetc(f);
    fseek(f, offset, SEEK_SET);
    fputc(c ^ 0x01, f);
    fclose(f);
}

/* The path of the (only) segment file of the log in `dir`. */
static void segment_of(const char *dir, char *out, size_t size) {
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (d == NULL) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "seg-", 4) == 0) snprintf(out, size, "%s/%s", dir, e->d_name);
    }
    closedir(d);
}

/* rm -r of the test's directory. */
static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (d == NULL) return;
    struct dirent *e;
    char path[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(path);
        else unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* Decides `json` and returns its audit_seq (0 when null, -1 when no decision). */
static long long decide_seq(const gd_engine *engine, const char *json) {
    char *out = NULL;
    int rc = gd_engine_decide_json(engine, json, &out);
    check_status_seen(rc);
    if (rc != GD_OK) return -1;
    mj *d = mj_parse(out);
    long long seq = is_null(d, "audit_seq") ? 0 : number(d, "audit_seq");
    mj_free(d);
    gd_string_free(out);
    return seq;
}

/* The number of records a filter matches, or -1 when the query fails. */
static long long count(const gd_audit *audit, const char *filter) {
    char *out = NULL;
    int rc = gd_audit_query_json(audit, filter, &out);
    check_status_seen(rc);
    if (rc != GD_OK) return -1;
    mj *list = mj_parse(out);
    long long n = (list != NULL && list->type == MJ_ARRAY) ? (long long)list->n : -1;
    mj_free(list);
    gd_string_free(out);
    return n;
}

#define ID(s) (s), (sizeof(s) - 1)
static const char *ALLOW = "{\"principal\":\"zhang.san\",\"action\":\"query\",\"resource\":\"population-stats\"}";
static const char *DENY = "{\"principal\":\"zhang.san\",\"action\":\"modify\",\"resource\":\"population-stats\"}";

static void test_audit_open(void) {
    char dir[512], file[512], under_file[600];
    path_in(dir, sizeof dir, "audit-open");
    path_in(file, sizeof file, "a-file");
    write_bytes(file, "x", 1);
    snprintf(under_file, sizeof under_file, "%s/audit", file);

    gd_audit *audit = SENTINEL_AUDIT;
    CHECK_RC(gd_audit_open(NULL, ID(audit_key), GD_SYNC_ALWAYS, &audit), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_open("", audit_key, sizeof audit_key, GD_SYNC_ALWAYS, &audit), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_audit_open("/tmp/\xff\xfe", audit_key, sizeof audit_key, GD_SYNC_ALWAYS, &audit), GD_ERR_INVALID_UTF8);
    CHECK_RC(gd_audit_open(dir, NULL, 32, GD_SYNC_ALWAYS, &audit), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_open(dir, audit_key, 0, GD_SYNC_ALWAYS, &audit), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_audit_open(dir, audit_key, 16, GD_SYNC_ALWAYS, &audit), GD_ERR_KEY_INVALID);
    CHECK(strstr(last_error(), "32") != NULL);
    CHECK_RC(gd_audit_open(dir, audit_key, (size_t)GD_MAX_INPUT_LEN + 1, GD_SYNC_ALWAYS, &audit), GD_ERR_INPUT_TOO_LARGE);
    CHECK_RC(gd_audit_open(dir, audit_key, sizeof audit_key, 3, &audit), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_audit_open(dir, audit_key, sizeof audit_key, -1, &audit), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_audit_open(dir, audit_key, sizeof audit_key, GD_SYNC_ALWAYS, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_open(under_file, audit_key, sizeof audit_key, GD_SYNC_ALWAYS, &audit), GD_ERR_IO);
    CHECK(audit == SENTINEL_AUDIT);
    CHECK(!exists(dir)); /* nothing was created by a refused call */

    /* Every sync mode opens; the log is created on first open and reopened after. */
    static const int modes[] = { GD_SYNC_ALWAYS, GD_SYNC_BATCH, GD_SYNC_NONE };
    for (size_t i = 0; i < 3; i++) {
        CHECK_RC(gd_audit_open(dir, audit_key, sizeof audit_key, modes[i], &audit), GD_OK);
        uint64_t seq = 99;
        CHECK_RC(gd_audit_append_json(audit, "{\"kind\":\"test.open\"}", &seq), GD_OK);
        CHECK(seq == i + 1);
        CHECK_RC(gd_audit_sync(audit), GD_OK);
        gd_audit_free(audit);
    }
    gd_audit_free(NULL);

    /* Another 32-byte key is not this log's key. */
    uint8_t other[GD_AUDIT_KEY_LEN];
    memset(other, 0x42, sizeof other);
    audit = SENTINEL_AUDIT;
    CHECK_RC(gd_audit_open(dir, other, sizeof other, GD_SYNC_ALWAYS, &audit), GD_ERR_KEY_INVALID);
    CHECK(audit == SENTINEL_AUDIT);
}

/* One writer at a time: a second opener waits, then gets GD_ERR_STORE_LOCKED naming
 * the holder (this process) and its handle is untouched; once the holder is freed the
 * log opens at once. */
static void test_audit_lock(void) {
    char dir[512];
    path_in(dir, sizeof dir, "audit-lock");
    gd_audit *first = NULL;
    CHECK_RC(gd_audit_open(dir, audit_key, sizeof audit_key, GD_SYNC_ALWAYS, &first), GD_OK);
    gd_audit *second = SENTINEL_AUDIT;
    CHECK_RC(gd_audit_open_wait(dir, audit_key, sizeof audit_key, GD_SYNC_ALWAYS, 200, &second), GD_ERR_STORE_LOCKED);
    CHECK(second == SENTINEL_AUDIT);
    char holder[64];
    snprintf(holder, sizeof holder, "process %ld", (long)getpid());
    CHECK(strstr(last_error(), holder) != NULL);
    CHECK(strstr(last_error(), dir) != NULL);
    gd_audit_free(first);
    second = NULL;
    CHECK_RC(gd_audit_open_wait(dir, audit_key, sizeof audit_key, GD_SYNC_ALWAYS, 0, &second), GD_OK);
    gd_audit_free(second);
}

/* A node opened from its govdata.toml: the engine records into the configured log;
 * a node without a log hands out NULL; a wrong file is GD_ERR_CONFIG_INVALID. */
static void test_platform(void) {
    char dir[512], key[600], config[600], text[1024];
    path_in(dir, sizeof dir, "node");
    CHECK(mkdir(dir, 0700) == 0);
    snprintf(key, sizeof key, "%s/seal.key", dir);
    write_bytes(key, (const char *)audit_key, sizeof audit_key);
    CHECK(chmod(key, 0600) == 0);
    snprintf(config, sizeof config, "%s/govdata.toml", dir);
    snprintf(text, sizeof text, "node_id = \"c-node\"\n[audit]\ndir = \"audit\"\nkey_file = \"seal.key\"\n");
    write_bytes(config, text, strlen(text));

    gd_platform *node = NULL;
    CHECK_RC(gd_platform_open(NULL, &node), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_platform_open(config, &node), GD_OK);
    if (node == NULL) return;
    gd_engine *engine = NULL;
    gd_audit *audit = SENTINEL_AUDIT;
    gd_vault *vault = SENTINEL_VAULT;
    CHECK_RC(gd_platform_engine(node, &engine), GD_OK);
    CHECK_RC(gd_platform_audit(node, &audit), GD_OK);
    CHECK_RC(gd_platform_vault(node, &vault), GD_OK);
    CHECK(audit != NULL && audit != SENTINEL_AUDIT);
    CHECK(vault == NULL); /* no [vault] section */
    CHECK(decide_seq(engine, ALLOW) == 1);
    CHECK(decide_seq(engine, DENY) == 2);
    char *status = NULL;
    CHECK_RC(gd_platform_status_json(node, &status), GD_OK);
    CHECK(status != NULL && strstr(status, "\"node_id\":\"c-node\"") != NULL);
    CHECK(status != NULL && strstr(status, "\"last_seq\":2") != NULL);
    gd_string_free(status);
    /* The handles outlive the node's. */
    gd_platform_free(node);
    CHECK(decide_seq(engine, ALLOW) == 3);
    gd_engine_free(engine);
    gd_audit_free(audit);
    gd_platform_free(NULL);

    snprintf(text, sizeof text, "node_id = \"c-node\"\ncolour = \"red\"\n");
    write_bytes(config, text, strlen(text));
    node = NULL;
    CHECK_RC(gd_platform_open(config, &node), GD_ERR_CONFIG_INVALID);
    CHECK(node == NULL);
    CHECK(strstr(last_error(), "colour") != NULL);
}

static void test_audit_with_engine(void) {
    char dir[512];
    path_in(dir, sizeof dir, "audit");
    gd_audit *audit = NULL;
    CHECK_RC(gd_audit_open(dir, audit_key, sizeof audit_key, GD_SYNC_ALWAYS, &audit), GD_OK);
    gd_engine *engine = NULL;
    CHECK_RC(gd_engine_new_default(&engine), GD_OK);
    if (audit == NULL || engine == NULL) return;

    /* Before attaching, decisions are not recorded. */
    CHECK(decide_seq(engine, ALLOW) == 0);
    CHECK_RC(gd_engine_attach_audit(NULL, audit), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_attach_audit(engine, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_attach_audit(engine, audit), GD_OK);

    /* Each decision, allow or deny, is recorded and carries its sequence number. */
    long long first = decide_seq(engine, ALLOW);
    CHECK(first == 1);
    CHECK(decide_seq(engine, DENY) == first + 1);
    uint32_t ob = 0;
    CHECK_RC(gd_engine_check(engine, ID("zhang.san"), ID("query"), GD_RESOURCE_DATASET, ID("population-stats"), NULL, 0, &ob), GD_OK);
    uint64_t last = 0;
    CHECK_RC(gd_audit_last_seq(audit, &last), GD_OK);
    CHECK(last == (uint64_t)first + 2); /* the fast path is recorded too */
    uint64_t untouched = 777;
    CHECK_RC(gd_audit_last_seq(NULL, &untouched), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_last_seq(audit, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK(untouched == 777);

    /* The host's own events. */
    uint64_t seq = 777;
    CHECK_RC(gd_audit_append_json(NULL, "{\"kind\":\"x\"}", &seq), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_append_json(audit, NULL, &seq), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_append_json(audit, "{\"kind\":\"x\"}", NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_append_json(audit, "", &seq), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_audit_append_json(audit, "{\"kind\":\"\xc3\x28\"}", &seq), GD_ERR_INVALID_UTF8);
    CHECK_RC(gd_audit_append_json(audit, "{\"kind\":", &seq), GD_ERR_MALFORMED_JSON);
    CHECK_RC(gd_audit_append_json(audit, "{\"kind\":\"x\",\"colour\":1}", &seq), GD_ERR_REQUEST_INVALID);
    CHECK(strstr(last_error(), "colour") != NULL);
    CHECK_RC(gd_audit_append_json(audit, "{\"user\":\"wang.wu\"}", &seq), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_audit_append_json(audit, "[]", &seq), GD_ERR_REQUEST_INVALID);
    CHECK(seq == 777);
    CHECK_RC(gd_audit_append_json(audit,
        "{\"kind\":\"sharing.approved\",\"user\":\"wang.wu\",\"department\":\"renshe\","
        "\"action\":\"export\",\"resource\":\"employment-stats\",\"fields\":{\"request\":\"shr-1\"}}", &seq), GD_OK);
    CHECK(seq == last + 1);
    CHECK_RC(gd_audit_sync(NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_sync(audit), GD_OK);

    /* Detached, decisions are made but not recorded. */
    CHECK_RC(gd_engine_detach_audit(NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_detach_audit(engine), GD_OK);
    CHECK(decide_seq(engine, ALLOW) == 0);
    CHECK_RC(gd_engine_attach_audit(engine, audit), GD_OK);
    CHECK(decide_seq(engine, ALLOW) == (long long)seq + 1);

    /* Checkpoints. */
    char *checkpoint = SENTINEL_STRING;
    CHECK_RC(gd_audit_checkpoint(NULL, &checkpoint), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_checkpoint(audit, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK(checkpoint == SENTINEL_STRING);
    CHECK_RC(gd_audit_checkpoint(audit, &checkpoint), GD_OK);
    CHECK(strncmp(checkpoint, "gdaudit1:", 9) == 0);

    /* Verification, with and without the checkpoint. */
    char *report = SENTINEL_STRING;
    CHECK_RC(gd_audit_verify(NULL, NULL, &report), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_verify(audit, NULL, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_verify(audit, "", &report), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_audit_verify(audit, "gdaudit1:\xff", &report), GD_ERR_INVALID_UTF8);
    CHECK_RC(gd_audit_verify(audit, "not a checkpoint", &report), GD_ERR_REQUEST_INVALID);
    char forged[256];
    snprintf(forged, sizeof forged, "%s", checkpoint);
    size_t n = strlen(forged);
    forged[n - 1] = forged[n - 1] == '0' ? '1' : '0'; /* the MAC's last digit */
    CHECK_RC(gd_audit_verify(audit, forged, &report), GD_ERR_CRYPTO_AUTH_FAILED);
    CHECK(report == SENTINEL_STRING);
    CHECK_RC(gd_audit_verify(audit, NULL, &report), GD_OK);
    mj *r = mj_parse(report);
    CHECK(number(r, "records") == (long long)seq + 1);
    CHECK(number(r, "first_seq") == 1 && number(r, "last_seq") == (long long)seq + 1);
    CHECK(number(r, "segments") == 1 && is_null(r, "torn_tail") && is_null(r, "purged_through"));
    CHECK(mj_get_string(r, "head") != NULL && strcmp(mj_get_string(r, "head"), checkpoint) == 0);
    mj_free(r);
    gd_string_free(report);
    CHECK_RC(gd_audit_verify(audit, checkpoint, &report), GD_OK);
    gd_string_free(report);

    /* Queries. */
    char *out = SENTINEL_STRING;
    CHECK_RC(gd_audit_query_json(NULL, "{}", &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_query_json(audit, NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_query_json(audit, "{}", NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_query_json(audit, "", &out), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_audit_query_json(audit, "{\"user\":\"\xff\"}", &out), GD_ERR_INVALID_UTF8);
    CHECK_RC(gd_audit_query_json(audit, "{\"user\":", &out), GD_ERR_MALFORMED_JSON);
    CHECK_RC(gd_audit_query_json(audit, "{\"colour\":\"red\"}", &out), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_audit_query_json(audit, "{\"action\":\"fly\"}", &out), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_audit_query_json(audit, "{\"decision\":\"maybe\"}", &out), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_audit_query_json(audit, "{\"since\":\"last week\"}", &out), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_audit_query_json(audit, "{\"limit\":\"two\"}", &out), GD_ERR_REQUEST_INVALID);
    CHECK(out == SENTINEL_STRING);
    CHECK(count(audit, "{}") == (long long)seq + 1);
    CHECK(count(audit, "{\"kind\":\"sharing.approved\"}") == 1);
    CHECK(count(audit, "{\"kind\":\"decision\",\"decision\":\"deny\"}") == 1);
    CHECK(count(audit, "{\"user\":\"zhang.san\",\"action\":\"query\",\"dataset\":\"population-stats\"}") == 3);
    CHECK(count(audit, "{\"department\":\"gongan\"}") == 4);
    CHECK(count(audit, "{\"since\":\"2000-01-01\",\"until\":\"2000-01-02T00:00:00Z\"}") == 0);
    CHECK_RC(gd_audit_query_json(audit, "{\"limit\":2}", &out), GD_OK);
    mj *list = mj_parse(out);
    CHECK(list != NULL && list->n == 2);
    if (list != NULL && list->n == 2) {
        CHECK(number(&list->items[1], "seq") == (long long)seq + 1); /* the latest ones */
        CHECK(strcmp(mj_get_string(&list->items[0], "kind"), "sharing.approved") == 0);
        CHECK(mj_get_string(&list->items[0], "time") != NULL);
    }
    mj_free(list);
    gd_string_free(out);

    /* Viewing is a view_audit decision, recorded, with the records only on an allow. */
    out = SENTINEL_STRING;
    CHECK_RC(gd_audit_view_json(NULL, engine, "audit.he", "{}", &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_view_json(audit, NULL, "audit.he", "{}", &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_view_json(audit, engine, NULL, "{}", &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_view_json(audit, engine, "audit.he", NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_view_json(audit, engine, "audit.he", "{}", NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_audit_view_json(audit, engine, "", "{}", &out), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_audit_view_json(audit, engine, "audit.he", "{", &out), GD_ERR_MALFORMED_JSON);
    CHECK_RC(gd_audit_view_json(audit, engine, "nobody", "{}", &out), GD_ERR_UNKNOWN_ENTITY);
    CHECK(out == SENTINEL_STRING);
    CHECK_RC(gd_audit_view_json(audit, engine, "audit.he", "{\"department\":\"renshe\"}", &out), GD_OK);
    mj *v = mj_parse(out);
    const mj *decision = mj_get(v, "decision");
    const mj *records = mj_get(v, "records");
    CHECK(decision != NULL && strcmp(mj_get_string(decision, "decision"), "allow") == 0);
    CHECK(number(decision, "audit_seq") > 0);
    CHECK(records != NULL && records->type == MJ_ARRAY && records->n == 1); /* wang.wu's event */
    mj_free(v);
    gd_string_free(out);
    CHECK_RC(gd_audit_view_json(audit, engine, "vendor.li", "{}", &out), GD_OK);
    v = mj_parse(out);
    CHECK(strcmp(mj_get_string(mj_get(v, "decision"), "decision"), "deny") == 0);
    CHECK(mj_get(v, "records") != NULL && mj_get(v, "records")->n == 0);
    mj_free(v);
    gd_string_free(out);

    /* Tampering: flip a byte inside one record in the middle of the log. */
    char segment[1024];
    segment_of(dir, segment, sizeof segment);
    CHECK(segment[0] != '\0');
    CHECK(find_last(segment, "destruction.executed") < 0);
    uint64_t victim = 0;
    CHECK_RC(gd_audit_append_json(audit, "{\"kind\":\"destruction.executed\",\"user\":\"key.admin\"}", &victim), GD_OK);
    long at = find_last(segment, "destruction.executed");
    CHECK(at > 0);
    CHECK(decide_seq(engine, DENY) == (long long)victim + 1);
    CHECK_RC(gd_audit_verify(audit, checkpoint, &report), GD_OK);
    gd_string_free(report);
    flip_byte(segment, at + 3);
    report = SENTINEL_STRING;
    CHECK_RC(gd_audit_verify(audit, NULL, &report), GD_ERR_AUDIT_TAMPERED);
    char expect[64];
    snprintf(expect, sizeof expect, "record %llu", (unsigned long long)victim);
    CHECK(strstr(last_error(), expect) != NULL);
    CHECK_RC(gd_audit_verify(audit, checkpoint, &report), GD_ERR_AUDIT_TAMPERED);
    CHECK(report == SENTINEL_STRING);
    CHECK_RC(gd_audit_query_json(audit, "{}", &out), GD_ERR_AUDIT_TAMPERED);
    gd_string_free(checkpoint);

    /* The engine keeps the log open after gd_audit_free, until it is freed. */
    gd_audit_free(audit);
    CHECK(decide_seq(engine, ALLOW) > 0);
    gd_engine_free(engine);

    /* Reopening a log whose last segment holds a bad record is refused. */
    audit = SENTINEL_AUDIT;
    CHECK_RC(gd_audit_open(dir, audit_key, sizeof audit_key, GD_SYNC_ALWAYS, &audit), GD_ERR_AUDIT_TAMPERED);
    CHECK(audit == SENTINEL_AUDIT);
}

/* ---- the vault ---- */

static const char *PLAIN = "id,name,insured_since\n1,张某,2015-03\n";

static void test_vault_init_and_keys(gd_engine *engine, gd_audit *audit, const char *dir) {
    gd_vault *vault = SENTINEL_VAULT;
    char bad_dir[600];
    snprintf(bad_dir, sizeof bad_dir, "%s/a-file/vault", root);
#define INIT(d, k, kl, e, op, w, a, o) gd_vault_init(d, k, kl, e, op, w, a, o)
    CHECK_RC(INIT(NULL, master_key, 32, engine, "key.admin", NULL, audit, &vault), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(INIT("", master_key, 32, engine, "key.admin", NULL, audit, &vault), GD_ERR_ZERO_LENGTH);
    CHECK_RC(INIT("/tmp/\xc3", master_key, 32, engine, "key.admin", NULL, audit, &vault), GD_ERR_INVALID_UTF8);
    CHECK_RC(INIT(dir, NULL, 32, engine, "key.admin", NULL, audit, &vault), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(INIT(dir, master_key, 0, engine, "key.admin", NULL, audit, &vault), GD_ERR_ZERO_LENGTH);
    CHECK_RC(INIT(dir, master_key, 31, engine, "key.admin", NULL, audit, &vault), GD_ERR_KEY_INVALID);
    CHECK_RC(INIT(dir, master_key, (size_t)GD_MAX_INPUT_LEN + 1, engine, "key.admin", NULL, audit, &vault), GD_ERR_INPUT_TOO_LARGE);
    CHECK_RC(INIT(dir, master_key, 32, NULL, "key.admin", NULL, audit, &vault), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(INIT(dir, master_key, 32, engine, NULL, NULL, audit, &vault), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(INIT(dir, master_key, 32, engine, "", NULL, audit, &vault), GD_ERR_ZERO_LENGTH);
    CHECK_RC(INIT(dir, master_key, 32, engine, "key.admin", "", audit, &vault), GD_ERR_ZERO_LENGTH);
    CHECK_RC(INIT(dir, master_key, 32, engine, "key\xff", NULL, audit, &vault), GD_ERR_INVALID_UTF8);
    CHECK_RC(INIT(dir, master_key, 32, engine, "key.admin", NULL, audit, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(INIT(dir, master_key, 32, engine, "vendor.li", NULL, audit, &vault), GD_ERR_ACCESS_DENIED);
    CHECK_RC(INIT(dir, master_key, 32, engine, "nobody", NULL, audit, &vault), GD_ERR_UNKNOWN_ENTITY);
    CHECK_RC(INIT(bad_dir, master_key, 32, engine, "key.admin", NULL, audit, &vault), GD_ERR_IO);
    CHECK(vault == SENTINEL_VAULT);
    /* No message shows the key (its first bytes are c8 c7 c6 …). */
    CHECK_RC(INIT(dir, master_key, 16, engine, "key.admin", NULL, audit, &vault), GD_ERR_KEY_INVALID);
    CHECK(strstr(last_error(), "c8c7c6") == NULL && strstr(last_error(), "200, 199") == NULL);

    CHECK_RC(INIT(dir, master_key, 32, engine, "key.admin", NULL, audit, &vault), GD_OK);
    gd_vault *again = SENTINEL_VAULT;
    CHECK_RC(INIT(dir, master_key, 32, engine, "key.admin", NULL, audit, &again), GD_ERR_IO); /* a store is there */
    CHECK(again == SENTINEL_VAULT);
#undef INIT
    if (vault == SENTINEL_VAULT) return;

    /* Data keys: decided by the engine, dual control for important data. */
    CHECK_RC(gd_vault_rotate_key(NULL, "key.admin", NULL, "social-insurance"), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_rotate_key(vault, NULL, NULL, "social-insurance"), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_rotate_key(vault, "key.admin", NULL, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_rotate_key(vault, "key.admin", NULL, ""), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_vault_rotate_key(vault, "key.admin", "", "social-insurance"), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_vault_rotate_key(vault, "key.admin", NULL, "so\xff"), GD_ERR_INVALID_UTF8);
    CHECK_RC(gd_vault_rotate_key(vault, "vendor.li", NULL, "social-insurance"), GD_ERR_ACCESS_DENIED);
    CHECK_RC(gd_vault_rotate_key(vault, "key.admin", NULL, "no-such-data"), GD_ERR_UNKNOWN_ENTITY);
    CHECK_RC(gd_vault_rotate_key(vault, "key.admin", NULL, "medical-records"), GD_ERR_ACCESS_DENIED);
    CHECK(strstr(last_error(), "dual control") != NULL);
    CHECK_RC(gd_vault_rotate_key(vault, "key.admin", "ops.admin", "medical-records"), GD_OK);
    CHECK_RC(gd_vault_rotate_key(vault, "key.admin", NULL, "social-insurance"), GD_OK);
    CHECK_RC(gd_vault_ensure_key(NULL, "key.admin", NULL, "social-insurance"), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_ensure_key(vault, NULL, NULL, "social-insurance"), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_ensure_key(vault, "key.admin", NULL, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_ensure_key(vault, "key.admin", NULL, "social-insurance"), GD_OK); /* has one */
    CHECK_RC(gd_vault_ensure_key(vault, "key.admin", NULL, "subsidy-list"), GD_OK);      /* made */

    char *status = SENTINEL_STRING;
    CHECK_RC(gd_vault_status_json(NULL, &status), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_status_json(vault, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK(status == SENTINEL_STRING);
    CHECK_RC(gd_vault_status_json(vault, &status), GD_OK);
    mj *s = mj_parse(status);
    const mj *keys = mj_get(s, "keys");
    CHECK(keys != NULL && keys->n == 3);
    CHECK(mj_get_string(s, "master_key_id") != NULL);
    mj_free(s);
    gd_string_free(status);

    /* Rotation keeps old data readable. */
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    CHECK_RC(gd_vault_encrypt(vault, "social-insurance", GD_GRADE_L3, (const uint8_t *)PLAIN, strlen(PLAIN), &sealed, &sealed_len), GD_OK);
    CHECK_RC(gd_vault_rotate_key(vault, "key.admin", NULL, "social-insurance"), GD_OK);
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    CHECK_RC(gd_vault_decrypt(vault, "social-insurance", GD_GRADE_L3, sealed, sealed_len, &plain, &plain_len), GD_OK);
    CHECK(plain_len == strlen(PLAIN) && memcmp(plain, PLAIN, plain_len) == 0);
    gd_buffer_free(plain, plain_len);
    gd_buffer_free(sealed, sealed_len);

    gd_vault_free(vault);
    gd_vault_free(NULL);
}

static void test_vault_buffers(gd_vault *vault) {
    const uint8_t *in = (const uint8_t *)PLAIN;
    size_t in_len = strlen(PLAIN);
    uint8_t *out = SENTINEL_BUFFER;
    size_t out_len = 4242;

    CHECK_RC(gd_vault_encrypt(NULL, "social-insurance", GD_GRADE_L3, in, in_len, &out, &out_len), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_encrypt(vault, NULL, GD_GRADE_L3, in, in_len, &out, &out_len), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_encrypt(vault, "", GD_GRADE_L3, in, in_len, &out, &out_len), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_vault_encrypt(vault, "social\xff", GD_GRADE_L3, in, in_len, &out, &out_len), GD_ERR_INVALID_UTF8);
    CHECK_RC(gd_vault_encrypt(vault, "social-insurance", 0, in, in_len, &out, &out_len), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_vault_encrypt(vault, "social-insurance", 7, in, in_len, &out, &out_len), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_vault_encrypt(vault, "social-insurance", GD_GRADE_L3, NULL, in_len, &out, &out_len), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_encrypt(vault, "social-insurance", GD_GRADE_L3, in, 0, &out, &out_len), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_vault_encrypt(vault, "social-insurance", GD_GRADE_L3, in, (size_t)GD_MAX_BUFFER_LEN + 1, &out, &out_len), GD_ERR_INPUT_TOO_LARGE);
    CHECK_RC(gd_vault_encrypt(vault, "social-insurance", GD_GRADE_L3, in, SIZE_MAX, &out, &out_len), GD_ERR_INPUT_TOO_LARGE);
    CHECK_RC(gd_vault_encrypt(vault, "social-insurance", GD_GRADE_L3, in, in_len, NULL, &out_len), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_encrypt(vault, "social-insurance", GD_GRADE_L3, in, in_len, &out, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_encrypt(vault, "population-stats", GD_GRADE_L2, in, in_len, &out, &out_len), GD_ERR_KEY_NOT_FOUND);
    CHECK(out == SENTINEL_BUFFER && out_len == 4242);

    /* A round trip. */
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    CHECK_RC(gd_vault_encrypt(vault, "social-insurance", GD_GRADE_L3, in, in_len, &sealed, &sealed_len), GD_OK);
    CHECK(sealed != NULL && sealed_len > in_len && sealed_len <= in_len + GD_VAULT_RECORD_OVERHEAD);
    CHECK(!contains(sealed, sealed_len, "张某"));
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    CHECK_RC(gd_vault_decrypt(vault, "social-insurance", GD_GRADE_L3, sealed, sealed_len, &plain, &plain_len), GD_OK);
    CHECK(plain_len == in_len && memcmp(plain, in, in_len) == 0);
    gd_buffer_free(plain, plain_len);
    gd_buffer_free(NULL, 0);

    /* Bad arguments to decrypt. */
    CHECK_RC(gd_vault_decrypt(NULL, "social-insurance", GD_GRADE_L3, sealed, sealed_len, &out, &out_len), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_decrypt(vault, NULL, GD_GRADE_L3, sealed, sealed_len, &out, &out_len), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_decrypt(vault, "social-insurance", 9, sealed, sealed_len, &out, &out_len), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_vault_decrypt(vault, "social-insurance", GD_GRADE_L3, NULL, sealed_len, &out, &out_len), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_decrypt(vault, "social-insurance", GD_GRADE_L3, sealed, 0, &out, &out_len), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_vault_decrypt(vault, "social-insurance", GD_GRADE_L3, sealed, (size_t)GD_MAX_BUFFER_LEN + GD_VAULT_RECORD_OVERHEAD + 1, &out, &out_len), GD_ERR_INPUT_TOO_LARGE);
    CHECK_RC(gd_vault_decrypt(vault, "social-insurance", GD_GRADE_L3, sealed, sealed_len, NULL, &out_len), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_decrypt(vault, "social-insurance", GD_GRADE_L3, sealed, sealed_len, &out, NULL), GD_ERR_NULL_ARGUMENT);

    /* Another grade, another dataset, a changed byte anywhere, a cut: all refused. */
    CHECK_RC(gd_vault_decrypt(vault, "social-insurance", GD_GRADE_L4, sealed, sealed_len, &out, &out_len), GD_ERR_CRYPTO_AUTH_FAILED);
    CHECK_RC(gd_vault_decrypt(vault, "subsidy-list", GD_GRADE_L3, sealed, sealed_len, &out, &out_len), GD_ERR_CRYPTO_AUTH_FAILED);
    int every_flip_refused = 1;
    for (size_t i = 0; i < sealed_len; i += 7) {
        sealed[i] ^= 0x80;
        int rc = gd_vault_decrypt(vault, "social-insurance", GD_GRADE_L3, sealed, sealed_len, &out, &out_len);
        check_status_seen(rc);
        if (rc == GD_OK) every_flip_refused = 0;
        sealed[i] ^= 0x80;
    }
    CHECK(every_flip_refused);
    sealed[sealed_len - 1] ^= 0x01;
    CHECK_RC(gd_vault_decrypt(vault, "social-insurance", GD_GRADE_L3, sealed, sealed_len, &out, &out_len), GD_ERR_CRYPTO_AUTH_FAILED);
    sealed[sealed_len - 1] ^= 0x01;
    CHECK_RC(gd_vault_decrypt(vault, "social-insurance", GD_GRADE_L3, sealed, sealed_len - 1, &out, &out_len), GD_ERR_CRYPTO_AUTH_FAILED);
    CHECK_RC(gd_vault_decrypt(vault, "social-insurance", GD_GRADE_L3, (const uint8_t *)"xyz", 3, &out, &out_len), GD_ERR_CRYPTO_AUTH_FAILED);
    CHECK(out == SENTINEL_BUFFER && out_len == 4242);
    gd_buffer_free(sealed, sealed_len);
}

static void test_vault_files(gd_vault *vault) {
    char input[512], sealed[512], back[512], bad[512], out_of_bad[512];
    path_in(input, sizeof input, "social-insurance.csv");
    path_in(sealed, sizeof sealed, "social-insurance.csv.gdv");
    path_in(back, sizeof back, "social-insurance.back.csv");
    path_in(bad, sizeof bad, "social-insurance.bad.gdv");
    path_in(out_of_bad, sizeof out_of_bad, "social-insurance.bad.csv");
    /* Several 64 KiB chunks and a partial one. */
    size_t len = 200000;
    char *data = malloc(len);
    for (size_t i = 0; i < len; i++) data[i] = (char)('a' + (i * 7) % 26);
    write_bytes(input, data, len);

    uint64_t n = 4242;
    CHECK_RC(gd_vault_encrypt_file(NULL, "social-insurance", GD_GRADE_L3, input, sealed, &n), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_encrypt_file(vault, NULL, GD_GRADE_L3, input, sealed, &n), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_encrypt_file(vault, "social-insurance", 0, input, sealed, &n), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_vault_encrypt_file(vault, "social-insurance", GD_GRADE_L3, NULL, sealed, &n), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_encrypt_file(vault, "social-insurance", GD_GRADE_L3, input, NULL, &n), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_encrypt_file(vault, "social-insurance", GD_GRADE_L3, "", sealed, &n), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_vault_encrypt_file(vault, "social-insurance", GD_GRADE_L3, input, "", &n), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_vault_encrypt_file(vault, "social-insurance", GD_GRADE_L3, "/tmp/\xfe", sealed, &n), GD_ERR_INVALID_UTF8);
    CHECK_RC(gd_vault_encrypt_file(vault, "social-insurance", GD_GRADE_L3, input, sealed, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_encrypt_file(vault, "social-insurance", GD_GRADE_L3, "/nonexistent/in.csv", sealed, &n), GD_ERR_IO);
    CHECK_RC(gd_vault_encrypt_file(vault, "population-stats", GD_GRADE_L2, input, sealed, &n), GD_ERR_KEY_NOT_FOUND);
    CHECK(n == 4242 && !exists(sealed));

    CHECK_RC(gd_vault_encrypt_file(vault, "social-insurance", GD_GRADE_L3, input, sealed, &n), GD_OK);
    CHECK(n == len && file_size(sealed) > (long)len);
    n = 4242;
    CHECK_RC(gd_vault_decrypt_file(NULL, "social-insurance", GD_GRADE_L3, sealed, back, &n), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_decrypt_file(vault, NULL, GD_GRADE_L3, sealed, back, &n), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_decrypt_file(vault, "social-insurance", 8, sealed, back, &n), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_vault_decrypt_file(vault, "social-insurance", GD_GRADE_L3, NULL, back, &n), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_decrypt_file(vault, "social-insurance", GD_GRADE_L3, sealed, NULL, &n), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_decrypt_file(vault, "social-insurance", GD_GRADE_L3, sealed, "", &n), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_vault_decrypt_file(vault, "social-insurance", GD_GRADE_L3, sealed, back, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_decrypt_file(vault, "social-insurance", GD_GRADE_L3, "/nonexistent/x.gdv", back, &n), GD_ERR_IO);
    CHECK_RC(gd_vault_decrypt_file(vault, "social-insurance", GD_GRADE_L4, sealed, back, &n), GD_ERR_CRYPTO_AUTH_FAILED);
    CHECK(n == 4242 && !exists(back));
    CHECK_RC(gd_vault_decrypt_file(vault, "social-insurance", GD_GRADE_L3, sealed, back, &n), GD_OK);
    CHECK(n == len);
    size_t got_len = 0;
    uint8_t *got = read_bytes(back, &got_len);
    CHECK(got != NULL && got_len == len && memcmp(got, data, len) == 0);
    free(got);

    /* A changed byte in the last chunk: nothing is written, not even the chunks before. */
    size_t sealed_len = 0;
    uint8_t *bytes = read_bytes(sealed, &sealed_len);
    bytes[sealed_len - 100] ^= 0x01;
    write_bytes(bad, bytes, sealed_len);
    n = 4242;
    CHECK_RC(gd_vault_decrypt_file(vault, "social-insurance", GD_GRADE_L3, bad, out_of_bad, &n), GD_ERR_CRYPTO_AUTH_FAILED);
    CHECK(n == 4242 && !exists(out_of_bad));
    /* Cut at the end of the first chunk. */
    bytes[sealed_len - 100] ^= 0x01;
    write_bytes(bad, bytes, sealed_len / 2);
    CHECK_RC(gd_vault_decrypt_file(vault, "social-insurance", GD_GRADE_L3, bad, out_of_bad, &n), GD_ERR_CRYPTO_AUTH_FAILED);
    CHECK(!exists(out_of_bad));
    free(bytes);
    free(data);
}

static void test_vault_shred(gd_vault *vault, gd_audit *audit) {
    char sealed_file[512], after[512];
    path_in(sealed_file, sizeof sealed_file, "social-insurance.csv.gdv");
    path_in(after, sizeof after, "social-insurance.after-shred.csv");
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    CHECK_RC(gd_vault_encrypt(vault, "social-insurance", GD_GRADE_L3, (const uint8_t *)PLAIN, strlen(PLAIN), &sealed, &sealed_len), GD_OK);

    char *report = SENTINEL_STRING;
    CHECK_RC(gd_vault_shred(NULL, "key.admin", NULL, "social-insurance", &report), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_shred(vault, NULL, NULL, "social-insurance", &report), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_shred(vault, "key.admin", NULL, NULL, &report), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_shred(vault, "key.admin", NULL, "social-insurance", NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_shred(vault, "key.admin", NULL, "", &report), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_vault_shred(vault, "key.admin", "\xff", "social-insurance", &report), GD_ERR_INVALID_UTF8);
    CHECK_RC(gd_vault_shred(vault, "vendor.li", NULL, "social-insurance", &report), GD_ERR_ACCESS_DENIED);
    CHECK(strstr(last_error(), "vendor.li") != NULL);
    CHECK(report == SENTINEL_STRING);
    /* The vendor's refusal changed nothing. */
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    CHECK_RC(gd_vault_decrypt(vault, "social-insurance", GD_GRADE_L3, sealed, sealed_len, &plain, &plain_len), GD_OK);
    gd_buffer_free(plain, plain_len);

    CHECK_RC(gd_vault_shred(vault, "key.admin", NULL, "social-insurance", &report), GD_OK);
    mj *r = mj_parse(report);
    CHECK(strcmp(mj_get_string(r, "dataset"), "social-insurance") == 0);
    const mj *ids = mj_get(r, "key_ids");
    CHECK(ids != NULL && ids->n == 2); /* both versions */
    long long event_seq = number(r, "event_seq");
    CHECK(event_seq > 0);
    mj_free(r);
    gd_string_free(report);

    /* The shred is in the audit log, with the manage_keys decision before it. */
    char *records = NULL;
    CHECK_RC(gd_audit_query_json(audit, "{\"kind\":\"key.shred\"}", &records), GD_OK);
    mj *list = mj_parse(records);
    CHECK(list != NULL && list->n == 1 && number(&list->items[0], "seq") == event_seq);
    mj_free(list);
    gd_string_free(records);
    CHECK(count(audit, "{\"user\":\"vendor.li\",\"action\":\"manage_keys\",\"decision\":\"deny\"}") >= 2);

    /* Never again. */
    uint8_t *out = SENTINEL_BUFFER;
    size_t out_len = 4242;
    CHECK_RC(gd_vault_decrypt(vault, "social-insurance", GD_GRADE_L3, sealed, sealed_len, &out, &out_len), GD_ERR_KEY_DESTROYED);
    CHECK_RC(gd_vault_encrypt(vault, "social-insurance", GD_GRADE_L3, (const uint8_t *)PLAIN, strlen(PLAIN), &out, &out_len), GD_ERR_KEY_DESTROYED);
    CHECK(out == SENTINEL_BUFFER && out_len == 4242);
    uint64_t n = 4242;
    CHECK_RC(gd_vault_decrypt_file(vault, "social-insurance", GD_GRADE_L3, sealed_file, after, &n), GD_ERR_KEY_DESTROYED);
    CHECK(n == 4242 && !exists(after));
    CHECK_RC(gd_vault_ensure_key(vault, "key.admin", NULL, "social-insurance"), GD_ERR_KEY_DESTROYED);
    gd_buffer_free(sealed, sealed_len);
}

typedef struct {
    const gd_vault *vault;
    int ok;
} vault_worker_args;

static void *vault_worker(void *arg) {
    vault_worker_args *w = arg;
    w->ok = 1;
    for (int i = 0; i < 20; i++) {
        char text[64];
        snprintf(text, sizeof text, "record %d of thread %p", i, (void *)w);
        uint8_t *sealed = NULL, *plain = NULL;
        size_t sealed_len = 0, plain_len = 0;
        if (gd_vault_encrypt(w->vault, "medical-records", GD_GRADE_IMPORTANT, (const uint8_t *)text, strlen(text), &sealed, &sealed_len) != GD_OK ||
            gd_vault_decrypt(w->vault, "medical-records", GD_GRADE_IMPORTANT, sealed, sealed_len, &plain, &plain_len) != GD_OK ||
            plain_len != strlen(text) || memcmp(plain, text, plain_len) != 0) {
            w->ok = 0;
        }
        gd_buffer_free(sealed, sealed_len);
        gd_buffer_free(plain, plain_len);
    }
    return NULL;
}

static void test_vault_threads(const gd_vault *vault) {
    enum { N = 4 };
    pthread_t threads[N];
    vault_worker_args args[N];
    for (int i = 0; i < N; i++) {
        args[i].vault = vault;
        args[i].ok = 0;
        CHECK(pthread_create(&threads[i], NULL, vault_worker, &args[i]) == 0);
    }
    for (int i = 0; i < N; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK(args[i].ok);
    }
}

static void test_vault_open(const char *dir, uint8_t *important, size_t important_len) {
    gd_engine *engine = NULL;
    CHECK_RC(gd_engine_new_default(&engine), GD_OK);
    gd_vault *vault = SENTINEL_VAULT;
    uint8_t other[GD_VAULT_KEY_LEN];
    memset(other, 0x42, sizeof other);
    CHECK_RC(gd_vault_open(NULL, master_key, 32, engine, NULL, &vault), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_open("", master_key, 32, engine, NULL, &vault), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_vault_open(dir, NULL, 32, engine, NULL, &vault), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_open(dir, master_key, 0, engine, NULL, &vault), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_vault_open(dir, master_key, 33, engine, NULL, &vault), GD_ERR_KEY_INVALID);
    CHECK_RC(gd_vault_open(dir, other, sizeof other, engine, NULL, &vault), GD_ERR_KEY_INVALID);
    CHECK_RC(gd_vault_open(dir, master_key, 32, NULL, NULL, &vault), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_open(dir, master_key, 32, engine, NULL, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_vault_open("/nonexistent/vault", master_key, 32, engine, NULL, &vault), GD_ERR_IO);
    CHECK(vault == SENTINEL_VAULT);

    /* An edited key store does not authenticate (a digit of its MAC, at the end). */
    char store[600];
    snprintf(store, sizeof store, "%s/keystore.json", dir);
    size_t store_len = 0;
    uint8_t *store_bytes = read_bytes(store, &store_len);
    CHECK(store_bytes != NULL && store_len > 0);
    if (store_bytes != NULL && store_len > 0) {
        size_t i = store_len - 1;
        while (i > 0 && !((store_bytes[i] >= '0' && store_bytes[i] <= '9') || (store_bytes[i] >= 'a' && store_bytes[i] <= 'f'))) i--;
        uint8_t saved = store_bytes[i];
        store_bytes[i] = saved == '0' ? '1' : '0';
        write_bytes(store, store_bytes, store_len);
        CHECK_RC(gd_vault_open(dir, master_key, 32, engine, NULL, &vault), GD_ERR_CRYPTO_AUTH_FAILED);
        CHECK(vault == SENTINEL_VAULT);
        store_bytes[i] = saved;
        write_bytes(store, store_bytes, store_len);
    }
    free(store_bytes);

    /* Reopened without an audit log: data of before decrypts. */
    CHECK_RC(gd_vault_open(dir, master_key, 32, engine, NULL, &vault), GD_OK);
    if (vault == SENTINEL_VAULT) { gd_engine_free(engine); return; }
    gd_engine_free(engine); /* the vault keeps its engine */
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    CHECK_RC(gd_vault_decrypt(vault, "medical-records", GD_GRADE_IMPORTANT, important, important_len, &plain, &plain_len), GD_OK);
    CHECK(plain_len == strlen(PLAIN) && memcmp(plain, PLAIN, plain_len) == 0);
    gd_buffer_free(plain, plain_len);
    char *report = NULL;
    CHECK_RC(gd_vault_shred(vault, "key.admin", "ops.admin", "medical-records", &report), GD_OK);
    mj *r = mj_parse(report);
    CHECK(is_null(r, "event_seq")); /* no audit log: decided, not recorded */
    mj_free(r);
    gd_string_free(report);
    gd_vault_free(vault);
}

int main(void) {
    snprintf(root, sizeof root, "/tmp/govdata-c-av-XXXXXX");
    if (mkdtemp(root) == NULL) { perror("mkdtemp"); return 2; }
    for (size_t i = 0; i < sizeof audit_key; i++) audit_key[i] = (uint8_t)(i * 3 + 1);
    for (size_t i = 0; i < sizeof master_key; i++) master_key[i] = (uint8_t)(200 - i);

    test_audit_open();
    test_audit_lock();
    test_platform();
    test_audit_with_engine();

    /* The vault, deciding with an engine that records into an audit log. */
    char vault_dir[512], audit_dir[512];
    path_in(vault_dir, sizeof vault_dir, "vault");
    path_in(audit_dir, sizeof audit_dir, "vault-audit");
    gd_engine *engine = NULL;
    gd_audit *audit = NULL;
    CHECK_RC(gd_engine_new_default(&engine), GD_OK);
    CHECK_RC(gd_audit_open(audit_dir, audit_key, sizeof audit_key, GD_SYNC_BATCH, &audit), GD_OK);
    CHECK_RC(gd_engine_attach_audit(engine, audit), GD_OK);
    test_vault_init_and_keys(engine, audit, vault_dir);

    gd_vault *vault = NULL;
    CHECK_RC(gd_vault_open(vault_dir, master_key, sizeof master_key, engine, audit, &vault), GD_OK);
    uint8_t *important = NULL;
    size_t important_len = 0;
    if (vault != NULL) {
        test_vault_buffers(vault);
        test_vault_files(vault);
        test_vault_threads(vault);
        CHECK_RC(gd_vault_encrypt(vault, "medical-records", GD_GRADE_IMPORTANT, (const uint8_t *)PLAIN, strlen(PLAIN), &important, &important_len), GD_OK);
        test_vault_shred(vault, audit);
        /* The engine and the log may go first: the vault keeps them. */
        gd_engine_free(engine);
        engine = NULL;
        CHECK_RC(gd_vault_rotate_key(vault, "key.admin", NULL, "subsidy-list"), GD_OK);
    }
    char *report = NULL;
    CHECK_RC(gd_audit_verify(audit, NULL, &report), GD_OK);
    gd_string_free(report);
    gd_audit_free(audit);
    gd_vault_free(vault);
    gd_engine_free(engine);
    test_vault_open(vault_dir, important, important_len);
    gd_buffer_free(important, important_len);

    remove_tree(root);

    /* Every status the audit and vault API can reach was returned at least once. */
    static const int reachable[] = {
        GD_OK, GD_ERR_NULL_ARGUMENT, GD_ERR_INVALID_UTF8, GD_ERR_MALFORMED_JSON,
        GD_ERR_INPUT_TOO_LARGE, GD_ERR_ZERO_LENGTH, GD_ERR_UNKNOWN_ENTITY,
        GD_ERR_REQUEST_INVALID, GD_ERR_AUDIT_TAMPERED, GD_ERR_CRYPTO_AUTH_FAILED,
        GD_ERR_KEY_NOT_FOUND, GD_ERR_KEY_DESTROYED, GD_ERR_KEY_INVALID, GD_ERR_IO,
        GD_ERR_ACCESS_DENIED,
    };
    for (size_t i = 0; i < sizeof reachable / sizeof reachable[0]; i++) {
        if (!check_seen[reachable[i]]) fprintf(stderr, "status %s never returned\n", gd_status_name(reachable[i]));
        CHECK(check_seen[reachable[i]]);
    }
    return check_summary("audit_vault");
}
