/*
 * The C API, function by function: results, every status a call can return, and bad
 * input of every kind (NULL, empty, invalid UTF-8, malformed and huge JSON, lengths
 * that do not match). Run as: test_api REPO_ROOT (under valgrind in scripts/test-c.sh).
 */
#define _POSIX_C_SOURCE 200809L

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

/* Exports of a library built with the `testing` feature; not part of govdata.h. */
int gd_testing_panic_status(void);
const char *gd_testing_panic_ptr(void);
void gd_testing_panic_void(void);

static char policies_dir[1024];
static char inventory_path[1024];
static gd_engine *const SENTINEL_ENGINE = (gd_engine *)(uintptr_t)0x5e17;
static char *const SENTINEL_STRING = (char *)(uintptr_t)0x5e17;

/* This thread's last error message (a static buffer). */
static const char *last_error(void) {
    static char buf[4096];
    size_t len = 0;
    if (gd_last_error_message(buf, sizeof buf, &len) != GD_OK) return "<unreadable>";
    return buf;
}

static size_t last_error_len(void) {
    size_t len = (size_t)-1;
    if (gd_last_error_message(NULL, 0, &len) != GD_OK) return (size_t)-1;
    return len;
}

/* Decides `json` and returns the decision ("allow"/"deny") as a static string, or
 * the status name when no decision was made. */
static const char *decide(const gd_engine *engine, const char *json) {
    static char result[64];
    char *out = NULL;
    int rc = gd_engine_decide_json(engine, json, &out);
    check_status_seen(rc);
    if (rc != GD_OK) {
        snprintf(result, sizeof result, "%s", gd_status_name(rc));
        return result;
    }
    mj *d = mj_parse(out);
    const char *decision = mj_get_string(d, "decision");
    snprintf(result, sizeof result, "%s", decision ? decision : "<no decision>");
    mj_free(d);
    gd_string_free(out);
    return result;
}

static void write_file(const char *dir, const char *name, const char *text) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL) { perror(path); exit(2); }
    fputs(text, f);
    fclose(f);
}

static void remove_dir(const char *dir, const char *const *names) {
    char path[2048];
    for (; *names != NULL; names++) {
        snprintf(path, sizeof path, "%s/%s", dir, *names);
        unlink(path);
    }
    rmdir(dir);
}

/* A pack directory holding the default schema and one policy file; returns the status
 * of loading it with the example inventory. */
static int load_pack(const char *schema, const char *policy) {
    char dir[] = "/tmp/govdata-c-pack-XXXXXX";
    if (mkdtemp(dir) == NULL) { perror("mkdtemp"); exit(2); }
    write_file(dir, "schema.cedarschema", schema);
    write_file(dir, "dept.cedar", policy);
    gd_engine *engine = SENTINEL_ENGINE;
    int rc = gd_engine_new_from_dir(dir, inventory_path, &engine);
    if (rc == GD_OK) {
        gd_engine_free(engine);
    } else {
        CHECK(engine == SENTINEL_ENGINE); /* out untouched on failure */
        CHECK(last_error_len() > 0);
    }
    const char *names[] = { "schema.cedarschema", "dept.cedar", NULL };
    remove_dir(dir, names);
    return rc;
}

static void test_version_and_statuses(void) {
    CHECK(strcmp(gd_version(), GD_VERSION_STRING) == 0);
    CHECK(GD_VERSION_NUMBER == GD_VERSION_MAJOR * 10000 + GD_VERSION_MINOR * 100 + GD_VERSION_PATCH);

    static const struct { int status; const char *name; const char *code; } table[] = {
        { GD_OK, "GD_OK", NULL },
        { GD_DENIED, "GD_DENIED", NULL },
        { GD_ERR_NULL_ARGUMENT, "GD_ERR_NULL_ARGUMENT", NULL },
        { GD_ERR_INVALID_UTF8, "GD_ERR_INVALID_UTF8", NULL },
        { GD_ERR_MALFORMED_JSON, "GD_ERR_MALFORMED_JSON", NULL },
        { GD_ERR_INPUT_TOO_LARGE, "GD_ERR_INPUT_TOO_LARGE", NULL },
        { GD_ERR_ZERO_LENGTH, "GD_ERR_ZERO_LENGTH", NULL },
        { GD_ERR_BUFFER_TOO_SMALL, "GD_ERR_BUFFER_TOO_SMALL", NULL },
        { GD_ERR_PANIC, "GD_ERR_PANIC", NULL },
        { GD_ERR_POLICY_PARSE, "GD_ERR_POLICY_PARSE", "policy_parse" },
        { GD_ERR_POLICY_VALIDATION, "GD_ERR_POLICY_VALIDATION", "policy_validation" },
        { GD_ERR_POLICY_ANNOTATION, "GD_ERR_POLICY_ANNOTATION", "policy_annotation" },
        { GD_ERR_SCHEMA_INVALID, "GD_ERR_SCHEMA_INVALID", "schema_invalid" },
        { GD_ERR_INVENTORY_INVALID, "GD_ERR_INVENTORY_INVALID", "inventory_invalid" },
        { GD_ERR_UNKNOWN_ENTITY, "GD_ERR_UNKNOWN_ENTITY", "unknown_entity" },
        { GD_ERR_REQUEST_INVALID, "GD_ERR_REQUEST_INVALID", "request_invalid" },
        { GD_ERR_AUDIT_TAMPERED, "GD_ERR_AUDIT_TAMPERED", "audit_tampered" },
        { GD_ERR_AUDIT_RETENTION, "GD_ERR_AUDIT_RETENTION", "audit_retention" },
        { GD_ERR_AUDIT_UNAVAILABLE, "GD_ERR_AUDIT_UNAVAILABLE", "audit_unavailable" },
        { GD_ERR_CRYPTO_AUTH_FAILED, "GD_ERR_CRYPTO_AUTH_FAILED", "crypto_auth_failed" },
        { GD_ERR_KEY_NOT_FOUND, "GD_ERR_KEY_NOT_FOUND", "key_not_found" },
        { GD_ERR_KEY_DESTROYED, "GD_ERR_KEY_DESTROYED", "key_destroyed" },
        { GD_ERR_KEY_INVALID, "GD_ERR_KEY_INVALID", "key_invalid" },
        { GD_ERR_WORKFLOW_INVALID, "GD_ERR_WORKFLOW_INVALID", "workflow_invalid" },
        { GD_ERR_IO, "GD_ERR_IO", "io" },
        { GD_ERR_ACCESS_DENIED, "GD_ERR_ACCESS_DENIED", "access_denied" },
        { GD_ERR_STORE_LOCKED, "GD_ERR_STORE_LOCKED", "store_locked" },
        { GD_ERR_CONFIG_INVALID, "GD_ERR_CONFIG_INVALID", "config_invalid" },
        { GD_ERR_STORE_UNAVAILABLE, "GD_ERR_STORE_UNAVAILABLE", "store_unavailable" },
        { GD_ERR_BUNDLE_INVALID, "GD_ERR_BUNDLE_INVALID", "bundle_invalid" },
    };
    int named = 0;
    for (int s = -5; s < 300; s++) {
        if (gd_status_name(s) != NULL) named++;
    }
    CHECK(named == (int)(sizeof table / sizeof table[0]));
    CHECK(GD_OK == 0);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const char *name = gd_status_name(table[i].status);
        const char *code = gd_status_code(table[i].status);
        CHECK(name != NULL && strcmp(name, table[i].name) == 0);
        if (table[i].code == NULL) CHECK(code == NULL);
        else CHECK(code != NULL && strcmp(code, table[i].code) == 0);
    }
    CHECK(gd_status_name(-1) == NULL && gd_status_code(-1) == NULL);
    CHECK(gd_status_name(9) == NULL && gd_status_name(121) == NULL);
}

static void test_last_error_message(void) {
    gd_engine *engine = NULL;
    /* A failing call leaves a message; a size query and a read do not change it. */
    CHECK_RC(gd_engine_new_default(NULL), GD_ERR_NULL_ARGUMENT);
    size_t len = 0;
    CHECK_RC(gd_last_error_message(NULL, 0, &len), GD_OK);
    CHECK(len > 0);
    char *buf = malloc(len + 1);
    size_t got = 0;
    CHECK_RC(gd_last_error_message(buf, len + 1, &got), GD_OK);
    CHECK(got == len && strlen(buf) == len && strstr(buf, "out") != NULL);
    /* Exactly one byte short: truncated, NUL-terminated, out_len untouched. */
    size_t untouched = 12345;
    CHECK_RC(gd_last_error_message(buf, len, &untouched), GD_ERR_BUFFER_TOO_SMALL);
    CHECK(untouched == 12345 && strlen(buf) == len - 1);
    char one[1] = { 'x' };
    CHECK_RC(gd_last_error_message(one, 1, &untouched), GD_ERR_BUFFER_TOO_SMALL);
    CHECK(one[0] == '\0');
    CHECK_RC(gd_last_error_message(buf, 0, &got), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_last_error_message(NULL, 10, &got), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_last_error_message(buf, len + 1, NULL), GD_ERR_NULL_ARGUMENT);
    /* None of those changed the message. */
    CHECK(last_error_len() == len);
    free(buf);

    /* Truncation keeps whole UTF-8 characters: the message names a Chinese id. */
    CHECK_RC(gd_engine_new_default(&engine), GD_OK);
    CHECK(last_error_len() == 0); /* a success leaves it empty */
    char *out = SENTINEL_STRING;
    CHECK_RC(gd_engine_decide_json(engine, "{\"principal\":\"张三三\",\"action\":\"query\",\"resource\":\"hukou\"}", &out),
             GD_ERR_UNKNOWN_ENTITY);
    CHECK(out == SENTINEL_STRING);
    char full[512];
    CHECK_RC(gd_last_error_message(full, sizeof full, &len), GD_OK);
    const char *at = strstr(full, "张");
    CHECK(at != NULL);
    if (at != NULL) {
        size_t cut = (size_t)(at - full) + 2; /* inside the 3-byte character */
        char small[512];
        CHECK_RC(gd_last_error_message(small, cut, &got), GD_ERR_BUFFER_TOO_SMALL);
        CHECK(strlen(small) == (size_t)(at - full)); /* the partial character is dropped */
    }
    gd_engine_free(engine);
}

static void test_new(void) {
    gd_engine *engine = SENTINEL_ENGINE;
    CHECK_RC(gd_engine_new_from_dir(NULL, inventory_path, &engine), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_new_from_dir(policies_dir, NULL, &engine), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_new_from_dir(policies_dir, inventory_path, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_new_from_dir("", inventory_path, &engine), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_engine_new_from_dir(policies_dir, "", &engine), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_engine_new_from_dir("/tmp/\xff\xfe", inventory_path, &engine), GD_ERR_INVALID_UTF8);
    CHECK_RC(gd_engine_new_from_dir("/nonexistent/govdata-pack", inventory_path, &engine), GD_ERR_IO);
    CHECK_RC(gd_engine_new_from_dir(policies_dir, "/nonexistent/inventory.json", &engine), GD_ERR_IO);
    CHECK(engine == SENTINEL_ENGINE);

    /* A huge path is refused without reading past the limit. */
    char *huge = malloc((size_t)GD_MAX_INPUT_LEN + 2);
    memset(huge, 'a', (size_t)GD_MAX_INPUT_LEN + 1);
    huge[GD_MAX_INPUT_LEN + 1] = '\0';
    CHECK_RC(gd_engine_new_from_dir(huge, inventory_path, &engine), GD_ERR_INPUT_TOO_LARGE);
    free(huge);

    /* A bad inventory file. */
    char dir[] = "/tmp/govdata-c-inv-XXXXXX";
    if (mkdtemp(dir) == NULL) { perror("mkdtemp"); exit(2); }
    write_file(dir, "inventory.json", "{\"departments\":[{\"id\":\"d\",\"kind\":\"ministry\"}]}");
    char bad_inventory[2048];
    snprintf(bad_inventory, sizeof bad_inventory, "%s/inventory.json", dir);
    CHECK_RC(gd_engine_new_from_dir(policies_dir, bad_inventory, &engine), GD_ERR_INVENTORY_INVALID);
    CHECK(strstr(last_error(), "ministry") != NULL);
    const char *names[] = { "inventory.json", NULL };
    remove_dir(dir, names);

    /* Every kind of bad pack. */
    char schema_path[2048];
    snprintf(schema_path, sizeof schema_path, "%s/schema.cedarschema", policies_dir);
    char *schema = mj_read_file(schema_path);
    CHECK(schema != NULL);
    const char *ok_policy =
        "@id(\"p1\") @article(\"第三条\") @zh(\"甲\") @en(\"a\")\n"
        "permit (principal, action == Action::\"query\", resource is Dataset);\n";
    CHECK_RC(load_pack(schema, ok_policy), GD_OK);
    CHECK_RC(load_pack(schema, "@id(\"p1\") @article(\"第三条\") @zh(\"甲\") @en(\"a\")\n"
                               "permit (principal, action == Action::\"query\", resource is Dataset)\n"
                               "when { resource.level >>> 3 };"),
             GD_ERR_POLICY_PARSE);
    CHECK_RC(load_pack(schema, "@id(\"p2\") @article(\"第三条\") @zh(\"乙\") @en(\"b\")\n"
                               "permit (principal, action == Action::\"query\", resource is Dataset)\n"
                               "when { resource.levl > 3 };"),
             GD_ERR_POLICY_VALIDATION);
    CHECK_RC(load_pack(schema, "@zh(\"甲\") @en(\"a\") permit (principal, action, resource);"),
             GD_ERR_POLICY_ANNOTATION);
    CHECK_RC(load_pack("entity User = { name: Strin };", ok_policy), GD_ERR_SCHEMA_INVALID);
    free(schema);

    CHECK_RC(gd_engine_new_from_dir(policies_dir, inventory_path, &engine), GD_OK);
    CHECK(engine != SENTINEL_ENGINE && engine != NULL);
    CHECK(strcmp(decide(engine, "{\"principal\":\"zhang.san\",\"action\":\"query\",\"resource\":\"population-stats\"}"), "allow") == 0);
    gd_engine_free(engine);
    gd_engine_free(NULL);
}

static void test_decide_json(const gd_engine *engine) {
    char *out = SENTINEL_STRING;
    const char *ok = "{\"principal\":\"zhang.san\",\"action\":\"query\",\"resource\":\"population-stats\"}";

    CHECK_RC(gd_engine_decide_json(NULL, ok, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_decide_json(engine, NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_decide_json(engine, ok, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_decide_json(engine, "", &out), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_engine_decide_json(engine, "{\"principal\":\"\xc3\x28\",\"action\":\"query\",\"resource\":\"hukou\"}", &out),
             GD_ERR_INVALID_UTF8);
    CHECK_RC(gd_engine_decide_json(engine, "{", &out), GD_ERR_MALFORMED_JSON);
    CHECK_RC(gd_engine_decide_json(engine, "{\"principal\": \"zhang.san\",", &out), GD_ERR_MALFORMED_JSON);
    CHECK_RC(gd_engine_decide_json(engine, "not json", &out), GD_ERR_MALFORMED_JSON);
    CHECK_RC(gd_engine_decide_json(engine, "{\"principal\":\"zhang.san\",\"action\":\"query\",\"resource\":\"hukou\"} trailing", &out),
             GD_ERR_MALFORMED_JSON);
    CHECK(strstr(last_error(), "malformed") != NULL);
    CHECK_RC(gd_engine_decide_json(engine, "null", &out), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_engine_decide_json(engine, "[\"li.si\",\"query\",\"hukou\"]", &out), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_engine_decide_json(engine, "{\"principal\":7,\"action\":\"query\",\"resource\":\"hukou\"}", &out), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_engine_decide_json(engine, "{\"principal\":\"li.si\",\"action\":\"fly\",\"resource\":\"hukou\"}", &out), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_engine_decide_json(engine, "{\"principal\":\"li.si\",\"action\":\"query\",\"resource\":\"hukou\",\"colour\":1}", &out), GD_ERR_REQUEST_INVALID);
    CHECK(strstr(last_error(), "colour") != NULL);
    CHECK_RC(gd_engine_decide_json(engine, "{\"principal\":\"nobody\",\"action\":\"query\",\"resource\":\"hukou\"}", &out), GD_ERR_UNKNOWN_ENTITY);
    CHECK(strstr(last_error(), "nobody") != NULL);
    CHECK(out == SENTINEL_STRING); /* never written on failure */

    /* Deeply nested JSON is refused, not a stack overflow. */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    int rc = gd_engine_decide_json(engine, deep, &out);
    check_status_seen(rc);
    CHECK(rc == GD_ERR_MALFORMED_JSON || rc == GD_ERR_REQUEST_INVALID);
    free(deep);

    /* Huge JSON: GD_MAX_INPUT_LEN + 1 bytes is refused, the limit itself is read. */
    size_t big = (size_t)GD_MAX_INPUT_LEN + 1;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[big] = '\0';
    CHECK_RC(gd_engine_decide_json(engine, huge, &out), GD_ERR_INPUT_TOO_LARGE);
    huge[big - 1] = '\0'; /* exactly GD_MAX_INPUT_LEN bytes of spaces: read, and not JSON */
    CHECK_RC(gd_engine_decide_json(engine, huge, &out), GD_ERR_MALFORMED_JSON);
    free(huge);
    CHECK(out == SENTINEL_STRING);

    /* A decision, allow or deny, is GD_OK with the whole decision JSON. */
    CHECK_RC(gd_engine_decide_json(engine, "{\"principal\":\"zhang.san\",\"action\":\"query\",\"resource\":\"hukou\",\"context\":{\"purpose\":\"public_security\"}}", &out), GD_OK);
    CHECK(last_error_len() == 0);
    mj *d = mj_parse(out);
    CHECK(d != NULL);
    CHECK(mj_get_string(d, "decision") != NULL);
    CHECK(mj_get(d, "reasons") != NULL && mj_get(d, "reasons")->type == MJ_ARRAY);
    CHECK(mj_get(d, "obligations") != NULL && mj_get(d, "obligations")->type == MJ_ARRAY);
    const char *version = mj_get_string(d, "policy_version");
    CHECK(version != NULL && strncmp(version, "sha256:", 7) == 0);
    mj_free(d);
    gd_string_free(out);

    out = NULL;
    CHECK_RC(gd_engine_decide_json(engine, "{\"principal\":\"ops.admin\",\"action\":\"grant_superadmin\",\"resource\":{\"type\":\"System\",\"id\":\"lake-db\"},\"context\":{\"grantee\":\"vendor.li\"}}", &out), GD_OK);
    d = mj_parse(out);
    CHECK(strcmp(mj_get_string(d, "decision"), "deny") == 0);
    const mj *reasons = mj_get(d, "reasons");
    CHECK(reasons != NULL && reasons->n == 1 &&
          strcmp(mj_get_string(&reasons->items[0], "policy"), "art17-no-vendor-superadmin") == 0 &&
          strcmp(mj_get_string(&reasons->items[0], "article"), "第十七条") == 0);
    mj_free(d);
    gd_string_free(out);
    gd_string_free(NULL);
}

static void test_decide_many(const gd_engine *engine) {
    char *out = SENTINEL_STRING;
    CHECK_RC(gd_engine_decide_many_json(NULL, "[]", &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_decide_many_json(engine, NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_decide_many_json(engine, "[]", NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_decide_many_json(engine, "", &out), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_engine_decide_many_json(engine, "[\"\xff\"]", &out), GD_ERR_INVALID_UTF8);
    CHECK_RC(gd_engine_decide_many_json(engine, "[{]", &out), GD_ERR_MALFORMED_JSON);
    CHECK_RC(gd_engine_decide_many_json(engine, "{\"principal\":\"li.si\"}", &out), GD_ERR_REQUEST_INVALID);
    CHECK(out == SENTINEL_STRING);

    CHECK_RC(gd_engine_decide_many_json(engine, "[]", &out), GD_OK);
    CHECK(strcmp(out, "[]") == 0);
    gd_string_free(out);

    /* Mixed: an allow, a deny, a bad request and an unknown user, in order. */
    CHECK_RC(gd_engine_decide_many_json(engine,
        "[{\"principal\":\"zhang.san\",\"action\":\"query\",\"resource\":\"population-stats\"},"
        " {\"principal\":\"zhang.san\",\"action\":\"modify\",\"resource\":\"population-stats\"},"
        " {\"principal\":\"zhang.san\",\"action\":\"fly\",\"resource\":\"population-stats\"},"
        " {\"principal\":\"nobody\",\"action\":\"query\",\"resource\":\"hukou\"}]", &out), GD_OK);
    mj *list = mj_parse(out);
    CHECK(list != NULL && list->type == MJ_ARRAY && list->n == 4);
    if (list != NULL && list->n == 4) {
        CHECK(strcmp(mj_get_string(&list->items[0], "decision"), "allow") == 0);
        CHECK(strcmp(mj_get_string(&list->items[1], "decision"), "deny") == 0);
        const mj *e2 = mj_get(&list->items[2], "error");
        CHECK(e2 != NULL && strcmp(mj_get_string(e2, "code"), "request_invalid") == 0 &&
              strcmp(mj_get_string(e2, "status"), "GD_ERR_REQUEST_INVALID") == 0);
        const mj *e3 = mj_get(&list->items[3], "error");
        CHECK(e3 != NULL && strcmp(mj_get_string(e3, "code"), "unknown_entity") == 0);
    }
    mj_free(list);
    gd_string_free(out);

    /* A batch large enough to be spread over threads keeps its order. */
    const char *one = "{\"principal\":\"zhang.san\",\"action\":\"query\",\"resource\":\"population-stats\"},"
                      "{\"principal\":\"zhang.san\",\"action\":\"modify\",\"resource\":\"population-stats\"},";
    size_t pairs = 200;
    char *batch = malloc(strlen(one) * pairs + 8);
    char *p = batch;
    *p++ = '[';
    for (size_t i = 0; i < pairs; i++) { memcpy(p, one, strlen(one)); p += strlen(one); }
    p[-1] = ']';
    *p = '\0';
    CHECK_RC(gd_engine_decide_many_json(engine, batch, &out), GD_OK);
    list = mj_parse(out);
    CHECK(list != NULL && list->n == 2 * pairs);
    int in_order = list != NULL;
    for (size_t i = 0; list != NULL && i < list->n; i++) {
        const char *want = (i % 2 == 0) ? "allow" : "deny";
        const char *got = mj_get_string(&list->items[i], "decision");
        if (got == NULL || strcmp(got, want) != 0) in_order = 0;
    }
    CHECK(in_order);
    mj_free(list);
    gd_string_free(out);
    free(batch);
}

#define ID(s) (s), (sizeof(s) - 1)

static void test_check(const gd_engine *engine) {
    uint32_t ob = 0xdead;
    /* Allowed without obligations: an analyst queries their department's statistics. */
    int rc = gd_engine_check(engine, ID("zhang.san"), ID("query"), GD_RESOURCE_DATASET, ID("population-stats"), NULL, 0, &ob);
    CHECK_RC(rc, GD_OK);
    CHECK(ob == 0);
    CHECK_RC(gd_engine_check(engine, ID("zhang.san"), ID("modify"), GD_RESOURCE_DATASET, ID("population-stats"), NULL, 0, &ob), GD_DENIED);
    CHECK(ob == 0);
    CHECK(last_error_len() == 0); /* a deny is not an error */
    CHECK_RC(gd_engine_check(engine, ID("ops.admin"), ID("grant_superadmin"), GD_RESOURCE_SYSTEM, ID("lake-db"), NULL, 0, &ob), GD_DENIED);
    CHECK_RC(gd_engine_check(engine, ID("audit.he"), ID("view_audit"), GD_RESOURCE_AUDIT_LOG, ID("main"), NULL, 0, &ob), GD_OK);

    /* Obligations come through as bits, the same as the JSON call's names. */
    char *out = NULL;
    CHECK_RC(gd_engine_decide_json(engine, "{\"principal\":\"zhang.san\",\"action\":\"process\",\"resource\":\"hukou\",\"context\":{\"purpose\":\"public_security\"}}", &out), GD_OK);
    mj *d = mj_parse(out);
    uint32_t want = 0;
    const mj *obl = mj_get(d, "obligations");
    for (size_t i = 0; obl != NULL && i < obl->n; i++) {
        const char *o = obl->items[i].text;
        if (strcmp(o, "mask_personal_info") == 0) want |= GD_OBLIGATION_MASK_PERSONAL_INFO;
        else if (strcmp(o, "watermark") == 0) want |= GD_OBLIGATION_WATERMARK;
        else if (strcmp(o, "encrypt_at_rest") == 0) want |= GD_OBLIGATION_ENCRYPT_AT_REST;
        else if (strcmp(o, "encrypt_in_transit") == 0) want |= GD_OBLIGATION_ENCRYPT_IN_TRANSIT;
        else if (strcmp(o, "dual_control") == 0) want |= GD_OBLIGATION_DUAL_CONTROL;
        else want |= GD_OBLIGATION_OTHER;
    }
    int json_allows = strcmp(mj_get_string(d, "decision"), "allow") == 0;
    mj_free(d);
    gd_string_free(out);
    CHECK(json_allows && want == (GD_OBLIGATION_MASK_PERSONAL_INFO | GD_OBLIGATION_WATERMARK));
    rc = gd_engine_check(engine, ID("zhang.san"), ID("process"), GD_RESOURCE_DATASET, ID("hukou"), ID("public_security"), &ob);
    CHECK_RC(rc, GD_OK);
    CHECK(ob == want);
    /* Without the purpose, the same request is denied (Art. 13). */
    CHECK_RC(gd_engine_check(engine, ID("zhang.san"), ID("process"), GD_RESOURCE_DATASET, ID("hukou"), NULL, 0, &ob), GD_DENIED);
    CHECK(ob == 0);

    /* Ids need no NUL: slices of a larger buffer. */
    const char *buffer = "zhang.sanquerypopulation-statsXYZ";
    CHECK_RC(gd_engine_check(engine, buffer, 9, buffer + 9, 5, GD_RESOURCE_DATASET, buffer + 14, 16, NULL, 0, &ob), GD_OK);

    /* Bad arguments, each with its own status; the out-parameter is left alone. */
    ob = 0xdead;
    CHECK_RC(gd_engine_check(NULL, ID("zhang.san"), ID("query"), GD_RESOURCE_DATASET, ID("hukou"), NULL, 0, &ob), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_check(engine, NULL, 9, ID("query"), GD_RESOURCE_DATASET, ID("hukou"), NULL, 0, &ob), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_check(engine, ID("zhang.san"), NULL, 5, GD_RESOURCE_DATASET, ID("hukou"), NULL, 0, &ob), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_check(engine, ID("zhang.san"), ID("query"), GD_RESOURCE_DATASET, NULL, 5, NULL, 0, &ob), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_check(engine, ID("zhang.san"), ID("query"), GD_RESOURCE_DATASET, ID("hukou"), NULL, 3, &ob), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_check(engine, ID("zhang.san"), ID("query"), GD_RESOURCE_DATASET, ID("hukou"), NULL, 0, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_check(engine, "zhang.san", 0, ID("query"), GD_RESOURCE_DATASET, ID("hukou"), NULL, 0, &ob), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_engine_check(engine, ID("zhang.san"), "query", 0, GD_RESOURCE_DATASET, ID("hukou"), NULL, 0, &ob), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_engine_check(engine, ID("zhang.san"), ID("query"), GD_RESOURCE_DATASET, "hukou", 0, NULL, 0, &ob), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_engine_check(engine, ID("zhang.san"), ID("query"), GD_RESOURCE_DATASET, ID("hukou"), "x", 0, &ob), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_engine_check(engine, ID("zhang\xff"), ID("query"), GD_RESOURCE_DATASET, ID("hukou"), NULL, 0, &ob), GD_ERR_INVALID_UTF8);
    CHECK_RC(gd_engine_check(engine, ID("zhang.san"), ID("query"), GD_RESOURCE_DATASET, ID("hukou"), ID("\xe5\xbc"), &ob), GD_ERR_INVALID_UTF8);
    /* A length past the limit is refused before a byte is read. */
    CHECK_RC(gd_engine_check(engine, "z", (size_t)GD_MAX_INPUT_LEN + 1, ID("query"), GD_RESOURCE_DATASET, ID("hukou"), NULL, 0, &ob), GD_ERR_INPUT_TOO_LARGE);
    CHECK_RC(gd_engine_check(engine, "z", SIZE_MAX, ID("query"), GD_RESOURCE_DATASET, ID("hukou"), NULL, 0, &ob), GD_ERR_INPUT_TOO_LARGE);
    CHECK_RC(gd_engine_check(engine, ID("zhang.san"), ID("fly"), GD_RESOURCE_DATASET, ID("hukou"), NULL, 0, &ob), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_engine_check(engine, ID("zhang.san"), ID("query"), 7, ID("hukou"), NULL, 0, &ob), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_engine_check(engine, ID("zhang.san"), ID("query"), -1, ID("hukou"), NULL, 0, &ob), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_engine_check(engine, ID("zhang.san"), ID("query"), GD_RESOURCE_SYSTEM, ID("lake-db"), NULL, 0, &ob), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_engine_check(engine, ID("nobody"), ID("query"), GD_RESOURCE_DATASET, ID("hukou"), NULL, 0, &ob), GD_ERR_UNKNOWN_ENTITY);
    CHECK_RC(gd_engine_check(engine, ID("zhang.san"), ID("query"), GD_RESOURCE_DATASET, ID("no-such-data"), NULL, 0, &ob), GD_ERR_UNKNOWN_ENTITY);
    CHECK(ob == 0xdead);
}

static void test_inventory_updates(gd_engine *engine) {
    const char *modify = "{\"principal\":\"zhang.san\",\"action\":\"modify\",\"resource\":\"population-stats\"}";
    const char *promoted = "{\"id\":\"zhang.san\",\"name\":\"张三\",\"department\":\"gongan\",\"roles\":[\"data_steward\"]}";
    CHECK(strcmp(decide(engine, modify), "deny") == 0);

    CHECK_RC(gd_engine_upsert_json(NULL, "user", promoted), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_upsert_json(engine, NULL, promoted), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_upsert_json(engine, "user", NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_upsert_json(engine, "", promoted), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_engine_upsert_json(engine, "user", ""), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_engine_upsert_json(engine, "us\xe9r", promoted), GD_ERR_INVALID_UTF8);
    CHECK_RC(gd_engine_upsert_json(engine, "user", "{\"id\":"), GD_ERR_MALFORMED_JSON);
    CHECK_RC(gd_engine_upsert_json(engine, "robot", promoted), GD_ERR_INVENTORY_INVALID);
    CHECK_RC(gd_engine_upsert_json(engine, "user", "{\"id\":\"zhang.san\",\"department\":\"atlantis\"}"), GD_ERR_INVENTORY_INVALID);
    CHECK(strstr(last_error(), "atlantis") != NULL);
    CHECK(strcmp(decide(engine, modify), "deny") == 0); /* rejected updates change nothing */

    CHECK_RC(gd_engine_upsert_json(engine, "user", promoted), GD_OK);
    CHECK(strcmp(decide(engine, modify), "allow") == 0);

    CHECK_RC(gd_engine_remove(NULL, "user", "zhang.san"), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_remove(engine, NULL, "zhang.san"), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_remove(engine, "user", NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_remove(engine, "user", ""), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_engine_remove(engine, "user", "\xff"), GD_ERR_INVALID_UTF8);
    CHECK_RC(gd_engine_remove(engine, "robot", "zhang.san"), GD_ERR_INVENTORY_INVALID);
    CHECK_RC(gd_engine_remove(engine, "department", "gongan"), GD_ERR_INVENTORY_INVALID); /* still referenced */
    CHECK_RC(gd_engine_remove(engine, "dataset", "no-such"), GD_ERR_UNKNOWN_ENTITY);
    CHECK_RC(gd_engine_remove(engine, "user", "zhang.san"), GD_OK);
    CHECK(strcmp(decide(engine, modify), "GD_ERR_UNKNOWN_ENTITY") == 0);

    /* Replace the whole inventory from JSON, then from the file again. */
    CHECK_RC(gd_engine_replace_inventory_json(NULL, "{}"), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_replace_inventory_json(engine, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_replace_inventory_json(engine, ""), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_engine_replace_inventory_json(engine, "{\"departments\": [}"), GD_ERR_MALFORMED_JSON);
    CHECK_RC(gd_engine_replace_inventory_json(engine, "{\"departments\":[],\"people\":[]}"), GD_ERR_INVENTORY_INVALID);
    CHECK_RC(gd_engine_replace_inventory_json(engine,
        "{\"departments\":[{\"id\":\"d1\",\"kind\":\"user\"}],"
        "\"users\":[{\"id\":\"s1\",\"department\":\"d1\",\"roles\":[\"data_steward\"]}],"
        "\"datasets\":[{\"id\":\"raw\",\"owner\":\"d1\",\"grade\":\"L2\",\"stage\":\"storage\",\"personal_info\":\"none\",\"share_type\":\"unconditional\"}]}"),
        GD_OK);
    CHECK(strcmp(decide(engine, "{\"principal\":\"s1\",\"action\":\"catalog\",\"resource\":\"raw\"}"), "allow") == 0);
    CHECK(strcmp(decide(engine, modify), "GD_ERR_UNKNOWN_ENTITY") == 0);
    CHECK_RC(gd_engine_replace_inventory_file(NULL, inventory_path), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_replace_inventory_file(engine, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_replace_inventory_file(engine, ""), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_engine_replace_inventory_file(engine, "/nonexistent/inventory.json"), GD_ERR_IO);
    CHECK_RC(gd_engine_replace_inventory_file(engine, inventory_path), GD_OK);
    CHECK(strcmp(decide(engine, modify), "deny") == 0);
}

static void test_policies(gd_engine *engine) {
    char *version = SENTINEL_STRING;
    CHECK_RC(gd_engine_policy_version(NULL, &version), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_policy_version(engine, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK(version == SENTINEL_STRING);
    CHECK_RC(gd_engine_policy_version(engine, &version), GD_OK);
    CHECK(strncmp(version, "sha256:", 7) == 0);

    CHECK_RC(gd_engine_reload_policies_dir(NULL, policies_dir), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_reload_policies_dir(engine, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_reload_policies_dir(engine, ""), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_engine_reload_policies_dir(engine, "/nonexistent/pack"), GD_ERR_IO);
    CHECK_RC(gd_engine_reload_policies_dir(engine, policies_dir), GD_OK);
    char *after = NULL;
    CHECK_RC(gd_engine_policy_version(engine, &after), GD_OK);
    CHECK(strcmp(version, after) == 0); /* the same pack from disk as compiled in */
    gd_string_free(after);

    /* A department's own pack replaces the default; a failed reload changes nothing. */
    char dir[] = "/tmp/govdata-c-reload-XXXXXX";
    if (mkdtemp(dir) == NULL) { perror("mkdtemp"); exit(2); }
    char schema_path[2048];
    snprintf(schema_path, sizeof schema_path, "%s/schema.cedarschema", policies_dir);
    char *schema = mj_read_file(schema_path);
    write_file(dir, "schema.cedarschema", schema);
    free(schema);
    write_file(dir, "dept.cedar", "@id(\"bad\") @article(\"第三条\") @zh(\"甲\") @en(\"a\") permit (");
    CHECK_RC(gd_engine_reload_policies_dir(engine, dir), GD_ERR_POLICY_PARSE);
    CHECK_RC(gd_engine_policy_version(engine, &after), GD_OK);
    CHECK(strcmp(version, after) == 0);
    gd_string_free(after);
    write_file(dir, "dept.cedar",
               "@id(\"all-query\") @article(\"第三条\") @zh(\"甲\") @en(\"anyone may query\")\n"
               "permit (principal, action == Action::\"query\", resource is Dataset);\n");
    CHECK_RC(gd_engine_reload_policies_dir(engine, dir), GD_OK);
    CHECK_RC(gd_engine_policy_version(engine, &after), GD_OK);
    CHECK(strcmp(version, after) != 0);
    gd_string_free(after);
    uint32_t ob;
    CHECK_RC(gd_engine_check(engine, ID("vendor.li"), ID("query"), GD_RESOURCE_DATASET, ID("hukou"), NULL, 0, &ob), GD_OK);
    const char *names[] = { "schema.cedarschema", "dept.cedar", NULL };
    remove_dir(dir, names);

    CHECK_RC(gd_engine_reload_default_policies(NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_reload_default_policies(engine), GD_OK);
    CHECK_RC(gd_engine_policy_version(engine, &after), GD_OK);
    CHECK(strcmp(version, after) == 0);
    gd_string_free(after);
    gd_string_free(version);
}

static void test_panic_guard(void) {
    CHECK_RC(gd_testing_panic_status(), GD_ERR_PANIC);
    CHECK(strstr(last_error(), "deliberate panic") != NULL);
    CHECK(gd_testing_panic_ptr() == NULL);
    gd_testing_panic_void();
    CHECK(1); /* the process is still here */
}

typedef struct {
    const gd_engine *engine;
    int allows, denies, errors;
    int own_error_kept;
} worker_args;

static void *worker(void *arg) {
    worker_args *w = arg;
    uint32_t ob;
    for (int i = 0; i < 50; i++) {
        int rc = gd_engine_check(w->engine, ID("zhang.san"), ID("query"), GD_RESOURCE_DATASET, ID("population-stats"), NULL, 0, &ob);
        if (rc == GD_OK) w->allows++;
        else if (rc == GD_DENIED) w->denies++;
        else w->errors++;
        char *out = NULL;
        rc = gd_engine_decide_json(w->engine, "{\"principal\":\"li.si\",\"action\":\"modify\",\"resource\":\"population-stats\"}", &out);
        if (rc == GD_OK) gd_string_free(out);
        else w->errors++;
    }
    /* This thread's last error is its own. */
    gd_engine_check(w->engine, ID("ghost"), ID("query"), GD_RESOURCE_DATASET, ID("hukou"), NULL, 0, &ob);
    w->own_error_kept = strstr(last_error(), "ghost") != NULL;
    return NULL;
}

static void test_threads(gd_engine *engine) {
    enum { N = 4 };
    pthread_t threads[N];
    worker_args args[N];
    for (int i = 0; i < N; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].engine = engine;
        CHECK(pthread_create(&threads[i], NULL, worker, &args[i]) == 0);
    }
    /* Updates and reloads while the workers decide. */
    const char *steward = "{\"id\":\"tmp.user\",\"department\":\"gongan\",\"roles\":[\"data_steward\"]}";
    for (int i = 0; i < 10; i++) {
        CHECK_RC(gd_engine_upsert_json(engine, "user", steward), GD_OK);
        CHECK_RC(gd_engine_remove(engine, "user", "tmp.user"), GD_OK);
    }
    CHECK_RC(gd_engine_reload_default_policies(engine), GD_OK);
    CHECK(last_error_len() == 0); /* the workers' errors are not this thread's */
    for (int i = 0; i < N; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK(args[i].allows == 50 && args[i].denies == 0 && args[i].errors == 0);
        CHECK(args[i].own_error_kept);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s REPO_ROOT\n", argv[0]);
        return 2;
    }
    snprintf(policies_dir, sizeof policies_dir, "%s/policies", argv[1]);
    snprintf(inventory_path, sizeof inventory_path, "%s/policies/examples/inventory.json", argv[1]);

    test_version_and_statuses();
    test_last_error_message();
    test_new();

    gd_engine *engine = NULL;
    CHECK_RC(gd_engine_new_default(&engine), GD_OK);
    if (engine == NULL) return check_summary("api");
    test_decide_json(engine);
    test_decide_many(engine);
    test_check(engine);
    test_inventory_updates(engine);
    test_policies(engine);
    test_threads(engine);
    gd_engine_free(engine);
    test_panic_guard();

    /* Every status the engine API can return was returned at least once. The audit,
     * crypto and key statuses are returned by the audit log and the vault
     * (test_audit_vault.c); GD_ERR_AUDIT_RETENTION, GD_ERR_AUDIT_UNAVAILABLE and
     * GD_ERR_WORKFLOW_INVALID by no call yet. Their names and codes are checked above. */
    static const int reachable[] = {
        GD_OK, GD_DENIED, GD_ERR_NULL_ARGUMENT, GD_ERR_INVALID_UTF8, GD_ERR_MALFORMED_JSON,
        GD_ERR_INPUT_TOO_LARGE, GD_ERR_ZERO_LENGTH, GD_ERR_BUFFER_TOO_SMALL, GD_ERR_PANIC,
        GD_ERR_POLICY_PARSE, GD_ERR_POLICY_VALIDATION, GD_ERR_POLICY_ANNOTATION,
        GD_ERR_SCHEMA_INVALID, GD_ERR_INVENTORY_INVALID, GD_ERR_UNKNOWN_ENTITY,
        GD_ERR_REQUEST_INVALID, GD_ERR_IO,
    };
    for (size_t i = 0; i < sizeof reachable / sizeof reachable[0]; i++) {
        if (!check_seen[reachable[i]]) fprintf(stderr, "status %s never returned\n", gd_status_name(reachable[i]));
        CHECK(check_seen[reachable[i]]);
    }
    return check_summary("api");
}
