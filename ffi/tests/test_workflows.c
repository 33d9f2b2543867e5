/*
 * The sharing and destruction procedures through the C API: a conditional share from
 * request to provision, whose approval id the engine then honours for the receiving
 * department only; a self-review refused (GD_DENIED); data not for sharing refused; a
 * destruction by crypto-erasure through the vault, after which the dataset's data is
 * GD_ERR_KEY_DESTROYED; the same state rebuilt from the log on reopening; and NULL,
 * empty, invalid UTF-8 and bad JSON for every function.
 * Run as: test_workflows (under valgrind in scripts/test-c.sh).
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "govdata.h"
#include "minijson.h"

static gd_workflows *const SENTINEL_WF = (gd_workflows *)(uintptr_t)0x5e17;
static char *const SENTINEL_STRING = (char *)(uintptr_t)0x5e17;

static char root[256];
static uint8_t audit_key[GD_AUDIT_KEY_LEN];
static uint8_t master_key[GD_VAULT_KEY_LEN];

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

static const char *APP =
    "{\"purpose\":\"social_security_check\",\"legal_basis\":\"社会保险法第五十八条\","
    "\"fields\":[\"name\",\"id_number\"],\"until\":\"2099-12-31\",\"scenario_risk\":\"low\"}";

/*
 * A step's outcome: checks the status and the JSON's "done", copies the record's
 * string field `field` (or the approval id when `field` is "approval.id") into `out`.
 */
static void step(int rc, int expected, char *json, const char *field, char *out, size_t size) {
    check_status_seen(rc);
    CHECK(rc == expected);
    if (rc != GD_OK && rc != GD_DENIED) {
        fprintf(stderr, "  step returned %s\n", gd_status_name(rc));
        return;
    }
    mj *v = mj_parse(json);
    CHECK(v != NULL);
    const mj *done = mj_get(v, "done");
    CHECK(done != NULL && done->type == MJ_BOOL);
    const mj *decision = mj_get(v, "decision");
    const char *verdict = mj_get_string(decision, "decision");
    CHECK(verdict != NULL && strcmp(verdict, rc == GD_OK ? "allow" : "deny") == 0);
    const mj *record = mj_get(v, "record");
    CHECK(record != NULL && record->type == (rc == GD_OK ? MJ_OBJECT : MJ_NULL));
    if (field != NULL && out != NULL && record != NULL && record->type == MJ_OBJECT) {
        const char *s = NULL;
        if (strcmp(field, "approval.id") == 0) s = mj_get_string(mj_get(record, "approval"), "id");
        else s = mj_get_string(record, field);
        CHECK(s != NULL);
        if (s != NULL) snprintf(out, size, "%s", s);
    }
    mj_free(v);
    gd_string_free(json);
}

/* Runs a step that writes `out` and checks it (the call runs before `out` is read). */
#define STEP(call, expected, field, buf, size)                  \
    do {                                                        \
        int step_rc_ = (call);                                  \
        step(step_rc_, (expected), out, (field), (buf), (size)); \
    } while (0)

static int decide_allowed(const gd_engine *engine, const char *user, const char *approval) {
    char req[512], *out = NULL;
    snprintf(req, sizeof req,
             "{\"principal\":\"%s\",\"action\":\"query\",\"resource\":\"hukou\","
             "\"context\":{\"approval\":\"%s\"}}", user, approval);
    int rc = gd_engine_decide_json(engine, req, &out);
    check_status_seen(rc);
    if (rc != GD_OK) return -1;
    mj *d = mj_parse(out);
    const char *verdict = mj_get_string(d, "decision");
    int allowed = verdict != NULL && strcmp(verdict, "allow") == 0;
    mj_free(d);
    gd_string_free(out);
    return allowed;
}

static char *list(const gd_workflows *wf) {
    char *out = NULL;
    CHECK_RC(gd_workflows_list_json(wf, &out), GD_OK);
    return out;
}

static void test_sharing(gd_workflows *wf, const gd_engine *engine) {
    char id[64] = "", approval[64] = "", status[32] = "";
    char *out = NULL;
    STEP(gd_share_request_json(wf, "wang.wu", "hukou", APP, &out), GD_OK, "id", id, sizeof id);
    out = NULL;
    STEP(gd_share_request_json(wf, "wang.wu", "hukou", APP, &out), GD_OK, "status", status, sizeof status);
    CHECK(strcmp(status, "submitted") == 0);

    /* The requester never reviews their own request. */
    out = NULL;
    STEP(gd_share_review_json(wf, "wang.wu", id, 1, NULL, &out), GD_DENIED, NULL, NULL, 0);
    /* A rejection needs a reason. */
    out = SENTINEL_STRING;
    CHECK_RC(gd_share_review_json(wf, "gongan.officer", id, 0, NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_share_review_json(wf, "gongan.officer", id, 0, " ", &out), GD_ERR_REQUEST_INVALID);
    CHECK(out == SENTINEL_STRING);
    /* Not yet approved: nothing to provision, and the approval id does not resolve. */
    CHECK_RC(gd_share_provision_json(wf, "li.si", id, &out), GD_ERR_WORKFLOW_INVALID);
    CHECK(out == SENTINEL_STRING);

    out = NULL;
    STEP(gd_share_review_json(wf, "gongan.officer", id, 1, "符合共享条件", &out), GD_OK, "approval.id", approval, sizeof approval);
    CHECK(strncmp(approval, "apr-", 4) == 0);
    out = SENTINEL_STRING;
    CHECK_RC(gd_share_review_json(wf, "gongan.officer", id, 1, NULL, &out), GD_ERR_WORKFLOW_INVALID);
    CHECK(out == SENTINEL_STRING);

    out = NULL;
    STEP(gd_share_provision_json(wf, "li.si", id, &out), GD_OK, "status", status, sizeof status);
    CHECK(strcmp(status, "provisioned") == 0);

    /* The approval is a fact for the receiving department, and for no one else. */
    CHECK(decide_allowed(engine, "wang.wu", approval) == 1);
    CHECK(decide_allowed(engine, "chen.yi", approval) == 0);
    CHECK(decide_allowed(engine, "wang.wu", "apr-shr-999999") == 0);

    /* Data not for sharing cannot be requested. */
    out = NULL;
    STEP(gd_share_request_json(wf, "wang.wu", "criminal-records", APP, &out), GD_DENIED, NULL, NULL, 0);

    /* The second request: rejected with a reason, then it cannot be revoked. */
    char second[64] = "";
    char *l = list(wf);
    mj *v = mj_parse(l);
    const mj *shares = mj_get(v, "shares");
    CHECK(shares != NULL && shares->type == MJ_ARRAY && shares->n == 2);
    if (shares != NULL && shares->n == 2) {
        const char *s = mj_get_string(&shares->items[1], "id");
        if (s != NULL) snprintf(second, sizeof second, "%s", s);
    }
    mj_free(v);
    gd_string_free(l);
    out = NULL;
    STEP(gd_share_review_json(wf, "gongan.officer", second, 0, "用途与申请数据项不符", &out), GD_OK, "status", status, sizeof status);
    CHECK(strcmp(status, "rejected") == 0);
    out = SENTINEL_STRING;
    CHECK_RC(gd_share_revoke_json(wf, "gongan.officer", second, "撤销", &out), GD_ERR_WORKFLOW_INVALID);
    CHECK_RC(gd_share_review_json(wf, "gongan.officer", "shr-999999", 1, NULL, &out), GD_ERR_UNKNOWN_ENTITY);
    CHECK_RC(gd_share_request_json(wf, "nobody", "hukou", APP, &out), GD_ERR_UNKNOWN_ENTITY);
    CHECK(out == SENTINEL_STRING);
}

static const char *PLAIN = "id,name,insured_since\n1,张某,2015-03\n";

static void test_destruction(gd_workflows *wf, const gd_vault *vault) {
    uint8_t *ct = NULL, *pt = (uint8_t *)SENTINEL_STRING;
    size_t ct_len = 0, pt_len = 0;
    CHECK_RC(gd_vault_rotate_key(vault, "key.admin", NULL, "social-insurance"), GD_OK);
    CHECK_RC(gd_vault_encrypt(vault, "social-insurance", GD_GRADE_L3, (const uint8_t *)PLAIN, strlen(PLAIN), &ct, &ct_len), GD_OK);

    char id[64] = "", approval[64] = "", status[32] = "";
    char *out = SENTINEL_STRING;
    CHECK_RC(gd_destruction_request_json(wf, "zhao.liu", "social-insurance", "burn", "到期", &out), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_destruction_request_json(wf, "zhao.liu", "social-insurance", "crypto_erase", " ", &out), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_destruction_request_json(wf, "zhao.liu", "no-such-dataset", "crypto_erase", "到期", &out), GD_ERR_UNKNOWN_ENTITY);
    CHECK(out == SENTINEL_STRING);
    out = NULL;
    STEP(gd_destruction_request_json(wf, "zhao.liu", "social-insurance", "crypto_erase", "保存期限届满", &out), GD_OK, "id", id, sizeof id);
    out = SENTINEL_STRING;
    CHECK_RC(gd_destruction_request_json(wf, "zhao.liu", "social-insurance", "overwrite", "重复申请", &out), GD_ERR_WORKFLOW_INVALID);
    CHECK_RC(gd_destruction_execute_json(wf, "ops.admin", id, NULL, &out), GD_ERR_WORKFLOW_INVALID);
    CHECK(out == SENTINEL_STRING);

    /* The requester never approves their own destruction. */
    out = NULL;
    STEP(gd_destruction_approve_json(wf, "zhao.liu", id, "ops.admin", &out), GD_DENIED, NULL, NULL, 0);
    out = NULL;
    STEP(gd_destruction_approve_json(wf, "renshe.officer", id, "ops.admin", &out), GD_OK, "approval.id", approval, sizeof approval);
    CHECK(strncmp(approval, "apr-", 4) == 0);
    out = SENTINEL_STRING;
    CHECK_RC(gd_destruction_reject_json(wf, "renshe.officer", id, "晚了", &out), GD_ERR_WORKFLOW_INVALID);
    CHECK_RC(gd_destruction_execute_json(wf, "ops.admin", id, "{\"witness\":", &out), GD_ERR_MALFORMED_JSON);
    CHECK_RC(gd_destruction_execute_json(wf, "ops.admin", id, "{\"witnes\":\"key.admin\"}", &out), GD_ERR_REQUEST_INVALID);
    CHECK(out == SENTINEL_STRING);

    /* Only the executor the approval names may carry it out. */
    out = NULL;
    STEP(gd_destruction_execute_json(wf, "zhao.liu", id, "{\"witness\":\"key.admin\"}", &out), GD_DENIED, NULL, NULL, 0);
    out = NULL;
    STEP(gd_destruction_execute_json(wf, "ops.admin", id, "{\"witness\":\"key.admin\",\"note\":\"销毁记录 2024-001\"}", &out), GD_OK, "status", status, sizeof status);
    CHECK(strcmp(status, "executed") == 0);

    CHECK_RC(gd_vault_decrypt(vault, "social-insurance", GD_GRADE_L3, ct, ct_len, &pt, &pt_len), GD_ERR_KEY_DESTROYED);
    CHECK(pt == (uint8_t *)SENTINEL_STRING);
    gd_buffer_free(ct, ct_len);

    /* A second destruction, rejected with a reason. */
    out = NULL;
    char second[64] = "";
    STEP(gd_destruction_request_json(wf, "zhao.liu", "social-insurance", "logical_delete", "清理副本", &out), GD_OK, "id", second, sizeof second);
    out = SENTINEL_STRING;
    CHECK_RC(gd_destruction_reject_json(wf, "renshe.officer", second, NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK(out == SENTINEL_STRING);
    out = NULL;
    STEP(gd_destruction_reject_json(wf, "renshe.officer", second, "已执行密码销毁", &out), GD_OK, "status", status, sizeof status);
    CHECK(strcmp(status, "rejected") == 0);
}

static void test_revoke(gd_workflows *wf, const gd_engine *engine) {
    char id[64] = "", approval[64] = "", status[32] = "";
    char *out = NULL;
    STEP(gd_share_request_json(wf, "wang.wu", "hukou", APP, &out), GD_OK, "id", id, sizeof id);
    out = NULL;
    STEP(gd_share_review_json(wf, "gongan.officer", id, 1, NULL, &out), GD_OK, "approval.id", approval, sizeof approval);
    out = NULL;
    STEP(gd_share_provision_json(wf, "li.si", id, &out), GD_OK, NULL, NULL, 0);
    CHECK(decide_allowed(engine, "wang.wu", approval) == 1);
    out = SENTINEL_STRING;
    CHECK_RC(gd_share_revoke_json(wf, "gongan.officer", id, NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK(out == SENTINEL_STRING);
    out = NULL;
    STEP(gd_share_revoke_json(wf, "gongan.officer", id, "共享目的已实现", &out), GD_OK, "status", status, sizeof status);
    CHECK(strcmp(status, "revoked") == 0);
    CHECK(decide_allowed(engine, "wang.wu", approval) == 0);
}

static void test_bad_input(gd_workflows *wf, gd_engine *engine, gd_audit *audit) {
    char *out = SENTINEL_STRING;
    gd_workflows *w = SENTINEL_WF;
    CHECK_RC(gd_workflows_open(NULL, audit, &w), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_workflows_open(engine, NULL, &w), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_workflows_open(engine, audit, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK(w == SENTINEL_WF);
    CHECK_RC(gd_workflows_set_vault(NULL, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_workflows_list_json(NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_workflows_list_json(wf, NULL), GD_ERR_NULL_ARGUMENT);

    CHECK_RC(gd_share_request_json(NULL, "wang.wu", "hukou", APP, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_share_request_json(wf, NULL, "hukou", APP, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_share_request_json(wf, "wang.wu", NULL, APP, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_share_request_json(wf, "wang.wu", "hukou", NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_share_request_json(wf, "wang.wu", "hukou", APP, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_share_request_json(wf, "", "hukou", APP, &out), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_share_request_json(wf, "wang\xff", "hukou", APP, &out), GD_ERR_INVALID_UTF8);
    CHECK_RC(gd_share_request_json(wf, "wang.wu", "hukou", "{\"purpose\":", &out), GD_ERR_MALFORMED_JSON);
    CHECK_RC(gd_share_request_json(wf, "wang.wu", "hukou", "not json", &out), GD_ERR_MALFORMED_JSON);
    CHECK_RC(gd_share_request_json(wf, "wang.wu", "hukou", "[]", &out), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_share_request_json(wf, "wang.wu", "hukou", "{\"purpose\":\"x\"}", &out), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_share_request_json(wf, "wang.wu", "hukou",
        "{\"purpose\":\"social_security_check\",\"legal_basis\":\"x\",\"fields\":[\"name\"],"
        "\"until\":\"someday\",\"scenario_risk\":\"low\"}", &out), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_share_request_json(wf, "wang.wu", "hukou",
        "{\"purpose\":\"social_security_check\",\"legal_basis\":\"x\",\"fields\":[],"
        "\"until\":\"2099-12-31\",\"scenario_risk\":\"low\"}", &out), GD_ERR_REQUEST_INVALID);
    char *big = malloc((size_t)GD_MAX_INPUT_LEN + 2);
    if (big != NULL) {
        memset(big, 'a', (size_t)GD_MAX_INPUT_LEN + 1);
        big[GD_MAX_INPUT_LEN + 1] = '\0';
        CHECK_RC(gd_share_request_json(wf, "wang.wu", "hukou", big, &out), GD_ERR_INPUT_TOO_LARGE);
        free(big);
    }

    CHECK_RC(gd_share_review_json(NULL, "gongan.officer", "shr-000001", 1, NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_share_review_json(wf, NULL, "shr-000001", 1, NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_share_review_json(wf, "gongan.officer", NULL, 1, NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_share_review_json(wf, "gongan.officer", "shr-000001", 1, NULL, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_share_review_json(wf, "gongan.officer", "", 1, NULL, &out), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_share_review_json(wf, "gongan.officer", "shr-000001", 1, "\xc3", &out), GD_ERR_INVALID_UTF8);

    CHECK_RC(gd_share_provision_json(NULL, "li.si", "shr-000001", &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_share_provision_json(wf, NULL, "shr-000001", &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_share_provision_json(wf, "li.si", NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_share_provision_json(wf, "li.si", "shr-000001", NULL), GD_ERR_NULL_ARGUMENT);

    CHECK_RC(gd_share_revoke_json(NULL, "gongan.officer", "shr-000001", "r", &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_share_revoke_json(wf, NULL, "shr-000001", "r", &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_share_revoke_json(wf, "gongan.officer", NULL, "r", &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_share_revoke_json(wf, "gongan.officer", "shr-000001", "", &out), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_share_revoke_json(wf, "gongan.officer", "shr-000001", "r", NULL), GD_ERR_NULL_ARGUMENT);

    CHECK_RC(gd_destruction_request_json(NULL, "zhao.liu", "social-insurance", "overwrite", "r", &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_destruction_request_json(wf, NULL, "social-insurance", "overwrite", "r", &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_destruction_request_json(wf, "zhao.liu", NULL, "overwrite", "r", &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_destruction_request_json(wf, "zhao.liu", "social-insurance", NULL, "r", &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_destruction_request_json(wf, "zhao.liu", "social-insurance", "overwrite", NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_destruction_request_json(wf, "zhao.liu", "social-insurance", "overwrite", "r", NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_destruction_request_json(wf, "zhao.liu", "social-insurance", "", "r", &out), GD_ERR_ZERO_LENGTH);

    CHECK_RC(gd_destruction_approve_json(NULL, "renshe.officer", "dst-000001", NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_destruction_approve_json(wf, NULL, "dst-000001", NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_destruction_approve_json(wf, "renshe.officer", NULL, NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_destruction_approve_json(wf, "renshe.officer", "dst-000001", "", &out), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_destruction_approve_json(wf, "renshe.officer", "dst-000001", NULL, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_destruction_approve_json(wf, "renshe.officer", "dst-999999", NULL, &out), GD_ERR_UNKNOWN_ENTITY);

    CHECK_RC(gd_destruction_reject_json(NULL, "renshe.officer", "dst-000001", "r", &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_destruction_reject_json(wf, NULL, "dst-000001", "r", &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_destruction_reject_json(wf, "renshe.officer", NULL, "r", &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_destruction_reject_json(wf, "renshe.officer", "dst-000001", "r", NULL), GD_ERR_NULL_ARGUMENT);

    CHECK_RC(gd_destruction_execute_json(NULL, "ops.admin", "dst-000001", NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_destruction_execute_json(wf, NULL, "dst-000001", NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_destruction_execute_json(wf, "ops.admin", NULL, NULL, &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_destruction_execute_json(wf, "ops.admin", "dst-000001", NULL, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_destruction_execute_json(wf, "ops.admin", "dst-000001", "", &out), GD_ERR_ZERO_LENGTH);
    CHECK_RC(gd_destruction_execute_json(wf, "ops.admin", "dst-000001", "nope", &out), GD_ERR_MALFORMED_JSON);
    CHECK(out == SENTINEL_STRING);

    gd_workflows_free(NULL);
}

int main(void) {
    snprintf(root, sizeof root, "/tmp/govdata-c-wf-XXXXXX");
    if (mkdtemp(root) == NULL) { perror("mkdtemp"); return 2; }
    for (size_t i = 0; i < sizeof audit_key; i++) audit_key[i] = (uint8_t)(i * 5 + 3);
    for (size_t i = 0; i < sizeof master_key; i++) master_key[i] = (uint8_t)(100 + i);
    char vault_dir[512];
    snprintf(vault_dir, sizeof vault_dir, "%s/vault", root);

    gd_engine *engine = NULL;
    gd_audit *audit = NULL;
    gd_vault *vault = NULL;
    gd_workflows *wf = NULL;
    /* A node opened from a govdata.toml with an audit log, as a deployment opens it:
       its engine records into the log and its procedures are rebuilt from it. */
    char key_path[512], config[512];
    snprintf(key_path, sizeof key_path, "%s/audit.key", root);
    snprintf(config, sizeof config, "%s/govdata.toml", root);
    FILE *f = fopen(key_path, "wb");
    if (f == NULL || fwrite(audit_key, 1, sizeof audit_key, f) != sizeof audit_key) { perror(key_path); return 2; }
    fclose(f);
    if (chmod(key_path, 0600) != 0) { perror(key_path); return 2; }
    f = fopen(config, "w");
    if (f == NULL) { perror(config); return 2; }
    fputs("node_id = \"procedures\"\n[audit]\ndir = \"audit\"\nkey_file = \"audit.key\"\n", f);
    fclose(f);
    gd_platform *node = NULL;
    CHECK_RC(gd_platform_open(config, &node), GD_OK);
    if (node == NULL) return check_summary("workflows");
    CHECK_RC(gd_platform_engine(node, &engine), GD_OK);
    CHECK_RC(gd_platform_audit(node, &audit), GD_OK);
    CHECK_RC(gd_vault_init(vault_dir, master_key, sizeof master_key, engine, "key.admin", NULL, audit, &vault), GD_OK);
    CHECK_RC(gd_platform_workflows(node, &wf), GD_OK);
    if (engine == NULL || audit == NULL || vault == NULL || wf == NULL) return check_summary("workflows");

    test_bad_input(wf, engine, audit);
    test_sharing(wf, engine);

    /* Crypto-erasure needs the vault. */
    CHECK_RC(gd_workflows_set_vault(wf, vault), GD_OK);
    test_destruction(wf, vault);
    test_revoke(wf, engine);

    /* The log is the only store: reopening rebuilds the same state. */
    char *before = list(wf);
    gd_workflows_free(wf);
    wf = NULL;
    CHECK_RC(gd_workflows_open(engine, audit, &wf), GD_OK);
    char *after = list(wf);
    CHECK(before != NULL && after != NULL && strcmp(before, after) == 0);
    mj *v = mj_parse(after);
    const mj *shares = mj_get(v, "shares"), *destructions = mj_get(v, "destructions");
    CHECK(shares != NULL && shares->n == 3);
    CHECK(destructions != NULL && destructions->n == 2);
    mj_free(v);
    gd_string_free(before);
    gd_string_free(after);

    /* The handles may be freed in any order: the procedures keep what they use. */
    gd_vault_free(vault);
    gd_engine_free(engine);
    gd_audit_free(audit);
    gd_platform_free(node);
    char *still = list(wf);
    gd_string_free(still);
    gd_workflows_free(wf);
    remove_tree(root);

    static const int reachable[] = {
        GD_OK, GD_DENIED, GD_ERR_NULL_ARGUMENT, GD_ERR_INVALID_UTF8, GD_ERR_MALFORMED_JSON,
        GD_ERR_INPUT_TOO_LARGE, GD_ERR_ZERO_LENGTH, GD_ERR_UNKNOWN_ENTITY,
        GD_ERR_REQUEST_INVALID, GD_ERR_WORKFLOW_INVALID, GD_ERR_KEY_DESTROYED,
    };
    for (size_t i = 0; i < sizeof reachable / sizeof reachable[0]; i++) {
        if (!check_seen[reachable[i]]) fprintf(stderr, "status %s never returned\n", gd_status_name(reachable[i]));
        CHECK(check_seen[reachable[i]]);
    }
    return check_summary("workflows");
}
