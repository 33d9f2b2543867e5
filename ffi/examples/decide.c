/*
 * A gateway's check, in C: load the engine once, then ask it before each access.
 *
 *   cargo build --release -p govdata-ffi
 *   cc -std=c11 -Iffi/include ffi/examples/decide.c -Ltarget/release -lgovdata -o decide
 *   LD_LIBRARY_PATH=target/release ./decide
 *
 * With no arguments it uses the default policy pack and the example inventory; with
 * two (a policy directory and an inventory file) it loads those.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "govdata.h"

/* Prints the reason for the last failure on this thread. */
static void report(const char *what, int status) {
    char message[1024];
    size_t len = 0;
    gd_last_error_message(message, sizeof message, &len); /* truncated if longer */
    fprintf(stderr, "%s failed: %s: %s\n", what, gd_status_name(status), message);
}

int main(int argc, char **argv) {
    gd_engine *engine = NULL;
    int rc = argc == 3 ? gd_engine_new_from_dir(argv[1], argv[2], &engine)
                       : gd_engine_new_default(&engine);
    if (rc != GD_OK) {
        report("loading the engine", rc);
        return 1;
    }

    /* The fast path: ids in, allow or deny out. Anything but GD_OK means "do not". */
    const char *user = "zhang.san", *action = "process", *dataset = "hukou", *purpose = "public_security";
    uint32_t obligations = 0;
    rc = gd_engine_check(engine, user, strlen(user), action, strlen(action), GD_RESOURCE_DATASET,
                         dataset, strlen(dataset), purpose, strlen(purpose), &obligations);
    if (rc == GD_OK) {
        printf("%s may %s %s", user, action, dataset);
        if (obligations & GD_OBLIGATION_MASK_PERSONAL_INFO) printf(", masking personal information");
        if (obligations & GD_OBLIGATION_WATERMARK) printf(", watermarked");
        if (obligations & GD_OBLIGATION_OTHER) printf(", with obligations this program does not know");
        printf("\n");
    } else if (rc == GD_DENIED) {
        printf("%s may not %s %s\n", user, action, dataset);
    } else {
        report("the check", rc);
    }

    /* The JSON call: the whole decision, with the articles behind it. */
    const char *request =
        "{\"principal\": \"ops.admin\", \"action\": \"grant_superadmin\","
        " \"resource\": {\"type\": \"System\", \"id\": \"lake-db\"},"
        " \"context\": {\"grantee\": \"vendor.li\"}}";
    char *decision = NULL;
    rc = gd_engine_decide_json(engine, request, &decision);
    if (rc == GD_OK) {
        printf("%s\n", decision);
        gd_string_free(decision);
    } else {
        report("the decision", rc);
    }

    gd_engine_free(engine);
    return 0;
}
