/*
 * The data obligations through the C API: the shared mask vectors
 * (tests/vectors/masks) through gd_mask_values, and a decision's masks, pseudonyms
 * and watermark carried out on Arrow C streams built by hand (arrow_stream.h) through
 * gd_engine_apply_arrow: masked values, a kept column passed on without a copy,
 * canary rows read back by gd_watermark_detect_arrow, and every way the call fails
 * closed with no output and the input released.
 * Run as: test_mask REPO_ROOT.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arrow_stream.h"
#include "check.h"
#include "govdata.h"
#include "minijson.h"

static const char *QUERY =
    "{\"principal\":\"zhang.san\",\"action\":\"query\",\"resource\":\"hukou\","
    "\"context\":{\"scenario_risk\":\"low\"}}";
static const char *DENIED =
    "{\"principal\":\"vendor.li\",\"action\":\"query\",\"resource\":\"hukou\","
    "\"context\":{\"scenario_risk\":\"low\"}}";

static uint8_t KEY[32];

/* The masked value of one case, or NULL for a null; *rc gets the status. */
static char *mask_one(const char *mask, const mj *in, const uint8_t *key, size_t key_len,
                      const char *suite, int *rc) {
    mj array = { MJ_ARRAY, 0, NULL, 1, NULL, (mj *)in };
    char *values = mj_dump(&array);
    char *out = NULL;
    *rc = gd_mask_values(mask, values, key, key_len, suite, &out);
    free(values);
    if (*rc != GD_OK) return NULL;
    mj *parsed = mj_parse(out);
    gd_string_free(out);
    char *value = NULL;
    if (parsed != NULL && parsed->type == MJ_ARRAY && parsed->n == 1 &&
        parsed->items[0].type == MJ_STRING) {
        value = strdup(parsed->items[0].text);
    }
    mj_free(parsed);
    return value;
}

static int same(const char *a, const mj *want) {
    if (want->type == MJ_NULL) return a == NULL;
    return a != NULL && want->type == MJ_STRING && strcmp(a, want->text) == 0;
}

static void shared_vectors(const char *root) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/vectors/masks/masks.json", root);
    char *text = mj_read_file(path);
    mj *doc = text ? mj_parse(text) : NULL;
    free(text);
    const mj *cases = doc ? mj_get(doc, "cases") : NULL;
    CHECK(cases != NULL && cases->n > 50);
    size_t ran = 0;
    for (size_t i = 0; cases != NULL && i < cases->n; i++) {
        const mj *c = &cases->items[i];
        int rc;
        char *got = mask_one(mj_get_string(c, "mask"), mj_get(c, "in"), NULL, 0, NULL, &rc);
        if (rc != GD_OK || !same(got, mj_get(c, "out"))) {
            fprintf(stderr, "mask %s: got %s\n", mj_get_string(c, "mask"), got ? got : "(null)");
        }
        CHECK(rc == GD_OK && same(got, mj_get(c, "out")));
        free(got);
        ran++;
    }
    mj_free(doc);

    snprintf(path, sizeof path, "%s/tests/vectors/masks/pseudonyms.json", root);
    text = mj_read_file(path);
    doc = text ? mj_parse(text) : NULL;
    free(text);
    const char *hex = doc ? mj_get_string(doc, "key_hex") : NULL;
    uint8_t key[32] = {0};
    for (size_t i = 0; hex != NULL && i < 32; i++) {
        unsigned b = 0;
        sscanf(hex + 2 * i, "%2x", &b);
        key[i] = (uint8_t)b;
    }
    cases = doc ? mj_get(doc, "cases") : NULL;
    CHECK(cases != NULL && cases->n >= 10);
    for (size_t i = 0; cases != NULL && i < cases->n; i++) {
        const mj *c = &cases->items[i];
        int rc;
        char *got = mask_one("pseudonym", mj_get(c, "in"), key, sizeof key,
                             mj_get_string(c, "suite"), &rc);
        CHECK(rc == GD_OK && same(got, mj_get(c, "out")));
        free(got);
        ran++;
    }
    mj_free(doc);
    printf("ran %zu mask vectors\n", ran);

    char *out = NULL;
    CHECK_RC(gd_mask_values("pseudonym", "[\"13812345678\"]", NULL, 0, NULL, &out), GD_ERR_KEY_NOT_FOUND);
    CHECK_RC(gd_mask_values("passport", "[\"x\"]", NULL, 0, NULL, &out), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_mask_values("mobile", "[1]", NULL, 0, NULL, &out), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_mask_values("mobile", "[\"x\"", NULL, 0, NULL, &out), GD_ERR_MALFORMED_JSON);
    CHECK_RC(gd_mask_values("mobile", "[\"x\"]", NULL, 0, "md5", &out), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_mask_values("pseudonym", "[\"x\"]", KEY, 8, NULL, &out), GD_ERR_KEY_INVALID);
    CHECK_RC(gd_mask_values(NULL, "[\"x\"]", NULL, 0, NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_mask_values("mobile", "[\"x\"]", NULL, 0, NULL, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK(out == NULL);
}

/* Rows of the household register: ID, name, mobile and an integer column. */
typedef struct {
    int64_t n;
    char **sfzh, **xm, **sjhm;
    int32_t *hjlb;
    as_column cols[4];
    as_table table;
} people;

static void people_make(people *p, int64_t n, int64_t batch_rows) {
    static const char *surnames[] = {"张", "欧阳", "李"};
    static const char *given[] = {"伟", "娜娜", "强"};
    p->n = n;
    p->sfzh = calloc((size_t)n, sizeof(char *));
    p->xm = calloc((size_t)n, sizeof(char *));
    p->sjhm = calloc((size_t)n, sizeof(char *));
    p->hjlb = calloc((size_t)n, sizeof(int32_t));
    uint32_t s = 1;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p->sfzh[i] = malloc(19);
        snprintf(p->sfzh[i], 19, "%02u%04u19%02u0101%04u", 11 + s % 55, (s >> 8) % 10000,
                 40 + (s >> 4) % 60, (s >> 12) % 10000);
        p->xm[i] = malloc(16);
        snprintf(p->xm[i], 16, "%s%s", surnames[s % 3], given[(s >> 3) % 3]);
        p->sjhm[i] = malloc(12);
        snprintf(p->sjhm[i], 12, "1%u%09u", 3 + (s >> 5) % 7, (s >> 2) % 1000000000u);
        p->hjlb[i] = (int32_t)i;
    }
    /* One null mobile number: a null stays null. */
    if (n > 1) {
        free(p->sjhm[1]);
        p->sjhm[1] = NULL;
    }
    p->cols[0] = (as_column){"sfzh", (const char *const *)p->sfzh, NULL};
    p->cols[1] = (as_column){"xm", (const char *const *)p->xm, NULL};
    p->cols[2] = (as_column){"sjhm", (const char *const *)p->sjhm, NULL};
    p->cols[3] = (as_column){"hjlb", NULL, p->hjlb};
    p->table = (as_table){4, p->cols, n, batch_rows, 0, 0, 0};
}

static void people_free(people *p) {
    for (int64_t i = 0; i < p->n; i++) {
        free(p->sfzh[i]);
        free(p->xm[i]);
        free(p->sjhm[i]);
    }
    free(p->sfzh);
    free(p->xm);
    free(p->sjhm);
    free(p->hjlb);
}

/* The masked value the library's own mask gives one value. */
static int masked_as(const char *mask, const char *value, const char *got) {
    mj in = { MJ_STRING, 0, (char *)value, 0, NULL, NULL };
    int rc;
    char *want = mask_one(mask, &in, NULL, 0, NULL, &rc);
    int ok = rc == GD_OK && want != NULL && got != NULL && strcmp(want, got) == 0;
    free(want);
    return ok;
}

/* A pack of one permit for `query` carrying `mask:standard` and no watermark. */
static gd_engine *masking_engine(const char *root, char *dir, size_t dir_len) {
    snprintf(dir, dir_len, "/tmp/govdata-c-mask-XXXXXX");
    if (mkdtemp(dir) == NULL) return NULL;
    char src[4096], dst[4096];
    snprintf(src, sizeof src, "%s/policies/schema.cedarschema", root);
    snprintf(dst, sizeof dst, "%s/schema.cedarschema", dir);
    char *schema = mj_read_file(src);
    FILE *f = fopen(dst, "wb");
    if (schema == NULL || f == NULL) { free(schema); if (f) fclose(f); return NULL; }
    fputs(schema, f);
    fclose(f);
    free(schema);
    snprintf(dst, sizeof dst, "%s/q.cedar", dir);
    f = fopen(dst, "wb");
    if (f == NULL) return NULL;
    fputs("@id(\"q\") @article(\"第十三条\") @zh(\"查询\") @en(\"query\")\n"
          "@obligations(\"mask:standard\")\n"
          "permit (principal, action == Action::\"query\", resource is Dataset);\n", f);
    fclose(f);
    char inventory[4096];
    snprintf(inventory, sizeof inventory, "%s/policies/examples/inventory.json", root);
    gd_engine *engine = NULL;
    CHECK_RC(gd_engine_new_from_dir(dir, inventory, &engine), GD_OK);
    return engine;
}

static void remove_pack(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/schema.cedarschema", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/q.cedar", dir);
    unlink(path);
    rmdir(dir);
}

static void masks_a_stream_and_keeps_a_column_without_a_copy(const char *root) {
    char dir[64];
    gd_engine *engine = masking_engine(root, dir, sizeof dir);
    if (engine == NULL) {
        check_report(0, __FILE__, __LINE__, "the masking pack could not be written");
        return;
    }
    people p;
    people_make(&p, 300, 128);
    struct ArrowArrayStream in, out;
    memset(&out, 0, sizeof out);
    as_stream(&p.table, &in);
    CHECK_RC(gd_engine_apply_arrow(engine, QUERY, NULL, 0, NULL, &in, &out), GD_OK);
    CHECK(in.release == NULL); /* moved into the library */
    CHECK(out.release != NULL);
    as_read r;
    CHECK(out.release != NULL && as_read_stream(&out, &r) == 0);
    CHECK(r.rows == 300 && r.batches == 3 && r.ncols == 4);
    const as_read_column *sfzh = as_find(&r, "sfzh"), *xm = as_find(&r, "xm");
    const as_read_column *sjhm = as_find(&r, "sjhm"), *hjlb = as_find(&r, "hjlb");
    CHECK(sfzh && xm && sjhm && hjlb);
    if (sfzh && xm && sjhm && hjlb) {
        int all = 1;
        for (int64_t i = 0; i < r.rows; i++) {
            all &= masked_as("resident_id", p.sfzh[i], sfzh->strings[i]);
            all &= masked_as("name", p.xm[i], xm->strings[i]);
            all &= p.sjhm[i] == NULL ? sjhm->strings[i] == NULL : masked_as("mobile", p.sjhm[i], sjhm->strings[i]);
            all &= hjlb->ints[i] == (int32_t)i;
        }
        CHECK(all);
        /* The kept column is the caller's memory: the same buffer, not a copy. */
        CHECK(hjlb->first_values == (const void *)p.hjlb);
        CHECK(sfzh->first_values != NULL && sfzh->first_values != hjlb->first_values);
    }
    as_read_free(&r);
    /* Every batch the library imported was released back to its producer. */
    CHECK(p.table.produced == 3 && p.table.released == 3);
    people_free(&p);
    gd_engine_free(engine);
    remove_pack(dir);
}

static void watermarks_name_the_recipient(void) {
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/govdata-c-audit-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    uint8_t audit_key[32];
    memset(audit_key, 7, sizeof audit_key);
    gd_audit *log = NULL;
    gd_engine *engine = NULL;
    CHECK_RC(gd_audit_open(dir, audit_key, sizeof audit_key, GD_SYNC_NONE, &log), GD_OK);
    CHECK_RC(gd_engine_new_default(&engine), GD_OK);
    CHECK_RC(gd_engine_attach_audit(engine, log), GD_OK);
    people p;
    people_make(&p, 3000, 1000);
    struct ArrowArrayStream in, out;
    memset(&out, 0, sizeof out);
    as_stream(&p.table, &in);
    CHECK_RC(gd_engine_apply_arrow(engine, QUERY, KEY, sizeof KEY, "sha256", &in, &out), GD_OK);
    /* The masked stream itself goes to the detector, as a leaked extract would. */
    char *found = NULL;
    CHECK_RC(gd_watermark_detect_arrow(KEY, sizeof KEY, NULL, "[\"li.si\",\"zhang.san\"]", &out, &found), GD_OK);
    CHECK(out.release == NULL);
    mj *d = found ? mj_parse(found) : NULL;
    const mj *marked = d ? mj_get(d, "marked") : NULL;
    CHECK(marked != NULL && marked->type == MJ_BOOL && marked->boolean);
    const char *recipient = d ? mj_get_string(d, "recipient") : NULL;
    CHECK(recipient != NULL && strcmp(recipient, "zhang.san") == 0);
    const mj *seq = d ? mj_get(d, "audit_seq") : NULL;
    CHECK(seq != NULL && seq->type == MJ_NUMBER && atoi(seq->text) >= 1);
    mj_free(d);
    gd_string_free(found);

    /* (Clean data carrying no mark is tested from Rust, Python and Node: building a
     * detector's table under valgrind costs a minute, so this suite builds one.) */
    people_free(&p);
    gd_engine_free(engine);
    gd_audit_free(log);
}

static void fails_closed(void) {
    gd_engine *engine = NULL;
    CHECK_RC(gd_engine_new_default(&engine), GD_OK);
    people p;
    people_make(&p, 10, 10);
    struct ArrowArrayStream in, out;
    memset(&out, 0, sizeof out);

    as_stream(&p.table, &in);
    CHECK_RC(gd_engine_apply_arrow(engine, DENIED, KEY, sizeof KEY, NULL, &in, &out), GD_ERR_ACCESS_DENIED);
    CHECK(in.release == NULL && out.release == NULL);

    /* A watermark needs the decision's audit record: an engine without a log refuses. */
    as_stream(&p.table, &in);
    CHECK_RC(gd_engine_apply_arrow(engine, QUERY, KEY, sizeof KEY, NULL, &in, &out), GD_ERR_REQUEST_INVALID);
    CHECK(in.release == NULL && out.release == NULL);

    as_stream(&p.table, &in);
    CHECK_RC(gd_engine_apply_arrow(engine, QUERY, NULL, 0, NULL, &in, &out), GD_ERR_KEY_NOT_FOUND);
    CHECK(in.release == NULL && out.release == NULL);

    static const char *passports[] = {"E1234567"};
    as_column bad_cols[1] = {{"passport", passports, NULL}};
    as_table bad = {1, bad_cols, 1, 1, 0, 0, 0};
    as_stream(&bad, &in);
    CHECK_RC(gd_engine_apply_arrow(engine, QUERY, KEY, sizeof KEY, NULL, &in, &out), GD_ERR_REQUEST_INVALID);
    CHECK(in.release == NULL && out.release == NULL);

    /* A stream already released, a NULL stream, a bad request: no output. */
    CHECK_RC(gd_engine_apply_arrow(engine, QUERY, KEY, sizeof KEY, NULL, &in, &out), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_engine_apply_arrow(engine, QUERY, KEY, sizeof KEY, NULL, NULL, &out), GD_ERR_NULL_ARGUMENT);
    as_stream(&p.table, &in);
    CHECK_RC(gd_engine_apply_arrow(engine, "{\"principal\"", KEY, sizeof KEY, NULL, &in, &out), GD_ERR_MALFORMED_JSON);
    CHECK(in.release == NULL && out.release == NULL);
    as_stream(&p.table, &in);
    CHECK_RC(gd_engine_apply_arrow(NULL, QUERY, KEY, sizeof KEY, NULL, &in, &out), GD_ERR_NULL_ARGUMENT);
    CHECK(in.release == NULL && out.release == NULL);
    as_stream(&p.table, &in);
    CHECK_RC(gd_engine_apply_arrow(engine, QUERY, KEY, sizeof KEY, NULL, &in, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK(in.release == NULL);
    char *json = NULL;
    as_stream(&p.table, &in);
    CHECK_RC(gd_watermark_detect_arrow(NULL, 0, NULL, NULL, &in, &json), GD_ERR_NULL_ARGUMENT);
    CHECK(in.release == NULL && json == NULL);
    people_free(&p);
    gd_engine_free(engine);
}

int main(int argc, char **argv) {
    const char *root = argc > 1 ? argv[1] : ".";
    for (size_t i = 0; i < sizeof KEY; i++) KEY[i] = (uint8_t)(100 + i);
    shared_vectors(root);
    masks_a_stream_and_keeps_a_column_without_a_copy(root);
    watermarks_name_the_recipient();
    fails_closed();
    return check_summary("mask");
}
