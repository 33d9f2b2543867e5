/*
 * gd_engine_explain_json, gd_assess_json and gd_platform_assess_json give the very JSON
 * the command line prints for the same inputs, byte for byte: the core writes it in
 * one place. Run as: test_report REPO_ROOT GOVDATA_CLI (the `govdata` binary of the same
 * build; under valgrind in scripts/test-c.sh).
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "govdata.h"

static const char *root;
static const char *cli;
static char inventory[512];
static char dir[128];

static const char *REQUESTS[] = {
    "{\"principal\":\"zhang.san\",\"action\":\"query\",\"resource\":\"hukou\",\"context\":{\"scenario_risk\":\"low\"}}",
    "{\"principal\":\"ops.admin\",\"action\":\"grant_superadmin\",\"resource\":{\"type\":\"System\",\"id\":\"lake-db\"},"
    "\"context\":{\"grantee\":\"vendor.li\"}}",
    "{\"principal\":\"zhang.san\",\"action\":\"modify\",\"resource\":\"hukou\"}",
    "{\"principal\":\"yunwei.ops\",\"action\":\"query\",\"resource\":\"traffic-flow\"}",
};
#define N_REQUESTS (sizeof REQUESTS / sizeof REQUESTS[0])

/* Runs `command` in a shell and returns everything it wrote to standard output
 * (malloc'd), or NULL. */
static char *capture(const char *command) {
    FILE *p = popen(command, "r");
    if (!p) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        pclose(p);
        return NULL;
    }
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 1024) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) break;
            buf = bigger;
            cap *= 2;
        }
    }
    buf[len] = '\0';
    pclose(p);
    return buf;
}

/* Whether the command line's output `cli_out` is `text` followed by a newline. */
static int same_as_cli(const char *cli_out, const char *text) {
    if (!cli_out || !text) return 0;
    size_t n = strlen(text);
    return strlen(cli_out) == n + 1 && memcmp(cli_out, text, n) == 0 && cli_out[n] == '\n';
}

static void write_file(const char *path, const char *text, size_t len, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    CHECK(fd >= 0);
    if (fd < 0) return;
    CHECK(write(fd, text, len) == (ssize_t)len);
    fchmod(fd, mode);
    close(fd);
}

static void test_explain(void) {
    /* The default pack and the example city, as the command line without flags. */
    gd_engine *engine = NULL;
    CHECK_RC(gd_engine_new_default(&engine), GD_OK);
    for (size_t i = 0; i < N_REQUESTS; i++) {
        char path[1200], command[4096];
        snprintf(path, sizeof path, "%s/request-%zu.json", dir, i);
        write_file(path, REQUESTS[i], strlen(REQUESTS[i]), 0644);
        snprintf(command, sizeof command, "'%s' explain --json '%s'", cli, path);
        char *expected = capture(command);
        char *out = NULL;
        CHECK_RC(gd_engine_explain_json(engine, REQUESTS[i], &out), GD_OK);
        CHECK(same_as_cli(expected, out));
        CHECK(out && strstr(out, "\"closest\":") != NULL);
        gd_string_free(out);
        free(expected);
    }
    char *out = (char *)"untouched";
    CHECK_RC(gd_engine_explain_json(engine, "{", &out), GD_ERR_MALFORMED_JSON);
    CHECK(strcmp(out, "untouched") == 0);
    CHECK_RC(gd_engine_explain_json(engine, "{\"principal\":\"nobody\",\"action\":\"query\",\"resource\":\"hukou\"}", &out),
             GD_ERR_UNKNOWN_ENTITY);
    CHECK_RC(gd_engine_explain_json(NULL, REQUESTS[0], &out), GD_ERR_NULL_ARGUMENT);
    CHECK_RC(gd_engine_explain_json(engine, REQUESTS[0], NULL), GD_ERR_NULL_ARGUMENT);
    gd_engine_free(engine);
}

static void test_assess(void) {
    char path[256], config[256], command[8192], text[4096];
    unsigned char key[32];
    memset(key, 5, sizeof key);
    snprintf(path, sizeof path, "%s/seal.key", dir);
    write_file(path, (const char *)key, sizeof key, 0600);
    memset(key, 7, sizeof key);
    snprintf(path, sizeof path, "%s/master.key", dir);
    write_file(path, (const char *)key, sizeof key, 0600);
    snprintf(path, sizeof path, "%s/loose.key", dir);
    write_file(path, (const char *)key, sizeof key, 0644);
    snprintf(config, sizeof config, "%s/govdata.toml", dir);
    int n = snprintf(text, sizeof text,
                     "node_id = \"c-assess\"\n[inventory]\nfile = \"%s\"\n"
                     "[audit]\ndir = \"audit\"\nkey_file = \"seal.key\"\n"
                     "[vault]\ndir = \"vault\"\nmaster_key_file = \"master.key\"\n",
                     inventory);
    write_file(config, text, (size_t)n, 0644);
    snprintf(command, sizeof command, "'%s' vault init --config '%s' >/dev/null", cli, config);
    CHECK(system(command) == 0);
    for (size_t i = 0; i < N_REQUESTS; i++) {
        snprintf(command, sizeof command, "'%s' decide --config '%s' '%s/request-%zu.json' >/dev/null", cli, config, dir, i);
        int rc = system(command);
        CHECK(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) <= 1);
    }

    /* From the file. */
    snprintf(command, sizeof command, "'%s' assess --config '%s' --now 2026-12-01 --json - --fail-on none 2>/dev/null", cli, config);
    char *expected = capture(command);
    char options[8192];
    snprintf(options, sizeof options, "{\"config\": \"%s\", \"now\": \"2026-12-01\"}", config);
    char *out = NULL;
    CHECK_RC(gd_assess_json(options, &out), GD_OK);
    CHECK(same_as_cli(expected, out));
    CHECK(out && strstr(out, "\"format\": \"govdata-assessment/1\"") != NULL);
    /* The same through the opened node. */
    gd_platform *node = NULL;
    CHECK_RC(gd_platform_open(config, &node), GD_OK);
    char *again = NULL;
    CHECK_RC(gd_platform_assess_json(node, "{\"now\": \"2026-12-01\"}", &again), GD_OK);
    CHECK(out && again && strcmp(out, again) == 0);
    gd_string_free(again);
    CHECK_RC(gd_platform_assess_json(node, "{\"config\": \"x\"}", &again), GD_ERR_REQUEST_INVALID);
    gd_platform_free(node);
    gd_string_free(out);
    free(expected);

    /* From options, as from flags. */
    snprintf(command, sizeof command,
             "'%s' assess --inventory '%s' --audit-dir '%s/audit' --audit-key-file '%s/seal.key' "
             "--vault-dir '%s/vault' --master-key-file '%s/master.key' --now 2026-12-01 --gap-days 0 "
             "--json - --fail-on none 2>/dev/null",
             cli, inventory, dir, dir, dir, dir);
    expected = capture(command);
    snprintf(options, sizeof options,
             "{\"inventory\": \"%s\", \"audit_dir\": \"%s/audit\", \"audit_key_file\": \"%s/seal.key\", "
             "\"vault_dir\": \"%s/vault\", \"master_key_file\": \"%s/master.key\", \"now\": \"2026-12-01\", "
             "\"gap_days\": 0}",
             inventory, dir, dir, dir, dir);
    out = NULL;
    CHECK_RC(gd_assess_json(options, &out), GD_OK);
    CHECK(same_as_cli(expected, out));
    gd_string_free(out);
    free(expected);

    /* A key file others may read, an unknown option, not JSON. */
    snprintf(options, sizeof options, "{\"config\": \"%s\", \"audit_key_file\": \"%s/loose.key\"}", config, dir);
    out = (char *)"untouched";
    CHECK_RC(gd_assess_json(options, &out), GD_ERR_CONFIG_INVALID);
    CHECK_RC(gd_assess_json("{\"colour\": \"red\"}", &out), GD_ERR_REQUEST_INVALID);
    CHECK_RC(gd_assess_json("{", &out), GD_ERR_MALFORMED_JSON);
    CHECK_RC(gd_assess_json(NULL, NULL), GD_ERR_NULL_ARGUMENT);
    CHECK(strcmp(out, "untouched") == 0);
    /* NULL options: the example city, now. */
    out = NULL;
    CHECK_RC(gd_assess_json(NULL, &out), GD_OK);
    gd_string_free(out);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: test_report REPO_ROOT GOVDATA_CLI\n");
        return 2;
    }
    root = argv[1];
    cli = argv[2];
    snprintf(inventory, sizeof inventory, "%s/policies/examples/inventory.json", root);
    snprintf(dir, sizeof dir, "/tmp/govdata-c-report-XXXXXX");
    if (!mkdtemp(dir)) return 2;
    test_explain();
    test_assess();
    char command[2048];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    if (system(command) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_summary("test_report");
}
