/*
 * An ingestion daemon's storage path, in C: every decision recorded in a tamper-evident
 * audit log, records encrypted in the vault before they are stored, the dataset's key
 * shredded when the data must be destroyed, and the log verified at the end.
 *
 *   cargo build --release -p govdata-ffi
 *   cc -std=c11 -Iffi/include ffi/examples/audit_vault.c -Ltarget/release -lgovdata -o audit_vault
 *   LD_LIBRARY_PATH=target/release ./audit_vault [WORK_DIR]
 *
 * Keys come from /dev/urandom here; a real host loads them from its key management.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "govdata.h"

static int fail(const char *what, int status) {
    char message[1024];
    size_t len = 0;
    gd_last_error_message(message, sizeof message, &len);
    fprintf(stderr, "%s failed: %s: %s\n", what, gd_status_name(status), message);
    return 1;
}

static int random_key(uint8_t *key, size_t len) {
    FILE *f = fopen("/dev/urandom", "rb");
    if (f == NULL) return 0;
    size_t got = fread(key, 1, len, f);
    fclose(f);
    return got == len;
}

int main(int argc, char **argv) {
    char dir[256] = "/tmp/govdata-example-XXXXXX";
    if (argc > 1) snprintf(dir, sizeof dir, "%s", argv[1]);
    else if (mkdtemp(dir) == NULL) return 1;
    char audit_dir[300], vault_dir[300];
    snprintf(audit_dir, sizeof audit_dir, "%s/audit", dir);
    snprintf(vault_dir, sizeof vault_dir, "%s/vault", dir);

    uint8_t audit_key[GD_AUDIT_KEY_LEN], master_key[GD_VAULT_KEY_LEN];
    if (!random_key(audit_key, sizeof audit_key) || !random_key(master_key, sizeof master_key)) return 1;

    gd_engine *engine = NULL;
    gd_audit *audit = NULL;
    gd_vault *vault = NULL;
    int rc, exit_code = 1;
    if ((rc = gd_engine_new_default(&engine)) != GD_OK) return fail("loading the engine", rc);
    if ((rc = gd_audit_open(audit_dir, audit_key, sizeof audit_key, GD_SYNC_ALWAYS, &audit)) != GD_OK) {
        fail("opening the audit log", rc);
        goto done;
    }
    /* From here on every decision is recorded before it is returned. */
    if ((rc = gd_engine_attach_audit(engine, audit)) != GD_OK) { fail("attaching the log", rc); goto done; }
    if ((rc = gd_vault_init(vault_dir, master_key, sizeof master_key, engine, "key.admin", NULL, audit, &vault)) != GD_OK) {
        fail("creating the vault", rc);
        goto done;
    }
    if ((rc = gd_vault_ensure_key(vault, "key.admin", NULL, "social-insurance")) != GD_OK) {
        fail("making the data key", rc);
        goto done;
    }

    /* Encrypt a record before storing it; decrypt it when an allowed reader asks. */
    const char *record = "1,张某,2015-03";
    uint8_t *sealed = NULL, *plain = NULL;
    size_t sealed_len = 0, plain_len = 0;
    if ((rc = gd_vault_encrypt(vault, "social-insurance", GD_GRADE_L3, (const uint8_t *)record,
                               strlen(record), &sealed, &sealed_len)) != GD_OK) {
        fail("encrypting", rc);
        goto done;
    }
    printf("encrypted %zu bytes into %zu\n", strlen(record), sealed_len);
    rc = gd_vault_decrypt(vault, "social-insurance", GD_GRADE_L3, sealed, sealed_len, &plain, &plain_len);
    if (rc == GD_OK) {
        printf("decrypted: %.*s\n", (int)plain_len, (const char *)plain);
        gd_buffer_free(plain, plain_len); /* wiped, then freed */
    } else {
        fail("decrypting", rc);
    }

    /* A vendor may not destroy keys; the key administrator may. */
    char *report = NULL;
    rc = gd_vault_shred(vault, "vendor.li", NULL, "social-insurance", &report);
    printf("vendor.li shreds: %s\n", gd_status_name(rc));
    if ((rc = gd_vault_shred(vault, "key.admin", NULL, "social-insurance", &report)) == GD_OK) {
        printf("key.admin shreds: %s\n", report);
        gd_string_free(report);
    }
    rc = gd_vault_decrypt(vault, "social-insurance", GD_GRADE_L3, sealed, sealed_len, &plain, &plain_len);
    printf("decrypting afterwards: %s\n", gd_status_name(rc)); /* GD_ERR_KEY_DESTROYED */
    gd_buffer_free(sealed, sealed_len);

    /* The log holds every decision and key event, and verifies. */
    char *verified = NULL;
    if ((rc = gd_audit_verify(audit, NULL, &verified)) != GD_OK) { fail("verifying the log", rc); goto done; }
    printf("audit log: %s\n", verified);
    gd_string_free(verified);
    exit_code = 0;

done:
    gd_vault_free(vault);
    gd_audit_free(audit);
    gd_engine_free(engine);
    if (argc <= 1) {
        char command[400];
        snprintf(command, sizeof command, "rm -rf '%s'", dir);
        if (system(command) != 0) fprintf(stderr, "could not remove %s\n", dir);
    }
    return exit_code;
}
