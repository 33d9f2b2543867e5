// The C++ RAII wrapper of ffi/examples/govdata.hpp: results, exceptions with the
// status and code, and no leak when an exception unwinds. Run as: test_cpp REPO_ROOT.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "govdata.hpp"

static int passed = 0, failed = 0;
#define CHECK(cond)                                                              \
    do {                                                                         \
        if (cond) {                                                              \
            passed++;                                                            \
        } else {                                                                 \
            failed++;                                                            \
            std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

template <typename F>
static int status_of(F &&f) {
    try {
        f();
    } catch (const govdata::Error &e) {
        return e.status();
    }
    return GD_OK;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s REPO_ROOT\n", argv[0]);
        return 2;
    }
    const std::string root = argv[1];
    auto engine = govdata::Engine::from_dir(root + "/policies", root + "/policies/examples/inventory.json");

    std::string d = engine.decide_json(
        R"({"principal":"ops.admin","action":"grant_superadmin","resource":{"type":"System","id":"lake-db"},"context":{"grantee":"vendor.li"}})");
    CHECK(d.find("\"decision\":\"deny\"") != std::string::npos);
    CHECK(d.find("art17-no-vendor-superadmin") != std::string::npos);

    auto c = engine.check("zhang.san", "query", "population-stats");
    CHECK(c.allowed);
    CHECK(!engine.check("zhang.san", "modify", "population-stats").allowed);
    CHECK(!engine.check("ops.admin", "grant_superadmin", "lake-db", GD_RESOURCE_SYSTEM).allowed);

    try {
        engine.decide_json(R"({"principal":"nobody","action":"query","resource":"hukou"})");
        CHECK(false);
    } catch (const govdata::Error &e) {
        CHECK(e.status() == GD_ERR_UNKNOWN_ENTITY);
        CHECK(e.code() == "unknown_entity");
        CHECK(std::string(e.name()) == "GD_ERR_UNKNOWN_ENTITY");
        CHECK(std::string(e.what()).find("nobody") != std::string::npos);
    }
    CHECK(status_of([&] { engine.check("zhang.san", "fly", "hukou"); }) == GD_ERR_REQUEST_INVALID);
    CHECK(status_of([&] { engine.check("", "query", "hukou"); }) == GD_ERR_NULL_ARGUMENT ||
          status_of([&] { engine.check("", "query", "hukou"); }) == GD_ERR_ZERO_LENGTH);
    CHECK(status_of([&] { engine.decide_json("{"); }) == GD_ERR_MALFORMED_JSON);
    CHECK(status_of([&] { govdata::Engine::from_dir("/nonexistent", "/nonexistent"); }) == GD_ERR_IO);

    std::string many = engine.decide_many_json(
        R"([{"principal":"zhang.san","action":"query","resource":"population-stats"},{"principal":"x","action":"fly","resource":"y"}])");
    CHECK(many.rfind("[{\"decision\":\"allow\"", 0) == 0);
    CHECK(many.find("request_invalid") != std::string::npos);

    engine.upsert_json("user", R"({"id":"zhang.san","department":"gongan","roles":["data_steward"]})");
    CHECK(engine.check("zhang.san", "modify", "population-stats").allowed);
    engine.remove("user", "zhang.san");
    CHECK(status_of([&] { engine.check("zhang.san", "query", "hukou"); }) == GD_ERR_UNKNOWN_ENTITY);
    engine.replace_inventory_file(root + "/policies/examples/inventory.json");
    CHECK(status_of([&] { engine.replace_inventory_json("{\"people\":[]}"); }) == GD_ERR_INVENTORY_INVALID);

    std::string v = engine.policy_version();
    engine.reload_policies_dir(root + "/policies");
    engine.reload_default_policies();
    CHECK(engine.policy_version() == v);
    CHECK(v.rfind("sha256:", 0) == 0);

    // Moving an engine moves the handle; the moved-from object frees nothing.
    govdata::Engine moved = std::move(engine);
    CHECK(moved.check("zhang.san", "query", "population-stats").allowed);
    auto defaults = govdata::Engine::with_defaults();
    CHECK(defaults.policy_version() == v);

    // The audit log and the vault.
    char tmp[] = "/tmp/govdata-cpp-XXXXXX";
    if (mkdtemp(tmp) == nullptr) return 2;
    const std::string dir = tmp;
    std::uint8_t audit_key[GD_AUDIT_KEY_LEN], master_key[GD_VAULT_KEY_LEN];
    for (std::size_t i = 0; i < sizeof audit_key; i++) audit_key[i] = static_cast<std::uint8_t>(i);
    for (std::size_t i = 0; i < sizeof master_key; i++) master_key[i] = static_cast<std::uint8_t>(90 + i);
    CHECK(status_of([&] { govdata::AuditLog::open(dir + "/audit", audit_key, 16); }) == GD_ERR_KEY_INVALID);
    {
        auto log = govdata::AuditLog::open(dir + "/audit", audit_key, sizeof audit_key, GD_SYNC_BATCH);
        moved.attach_audit(log);
        CHECK(moved.decide_json(R"({"principal":"zhang.san","action":"query","resource":"population-stats"})")
                  .find("\"audit_seq\":1") != std::string::npos);
        CHECK(log.append_json(R"({"kind":"sharing.approved","user":"wang.wu"})") == 2);
        CHECK(log.last_seq() == 2);
        std::string cp = log.checkpoint();
        CHECK(log.verify(cp).find("\"records\":2") != std::string::npos);
        CHECK(status_of([&] { log.verify("nonsense"); }) == GD_ERR_REQUEST_INVALID);
        CHECK(log.query_json(R"({"kind":"sharing.approved"})").find("wang.wu") != std::string::npos);
        CHECK(log.view_json(moved, "vendor.li").find("\"records\":[]") != std::string::npos);

        auto vault = govdata::Vault::init(dir + "/vault", master_key, sizeof master_key, moved, "key.admin", &log);
        CHECK(status_of([&] { vault.rotate_key("vendor.li", "social-insurance"); }) == GD_ERR_ACCESS_DENIED);
        vault.ensure_key("key.admin", "social-insurance");
        const std::string text = "1,张某,2015-03";
        auto sealed = vault.encrypt("social-insurance", GD_GRADE_L3, text.data(), text.size());
        auto plain = vault.decrypt("social-insurance", GD_GRADE_L3, sealed);
        CHECK(std::string(plain.begin(), plain.end()) == text);
        CHECK(status_of([&] { vault.decrypt("social-insurance", GD_GRADE_L4, sealed); }) == GD_ERR_CRYPTO_AUTH_FAILED);
        CHECK(vault.status_json().find("social-insurance") != std::string::npos);
        CHECK(vault.shred("key.admin", "social-insurance").find("\"event_seq\"") != std::string::npos);
        CHECK(status_of([&] { vault.decrypt("social-insurance", GD_GRADE_L3, sealed); }) == GD_ERR_KEY_DESTROYED);
        moved.detach_audit();
        auto reopened = govdata::Vault::open(dir + "/vault", master_key, sizeof master_key, moved);
        CHECK(status_of([&] { reopened.encrypt("social-insurance", GD_GRADE_L3, "x", 1); }) == GD_ERR_KEY_DESTROYED);
    }
    std::system(("rm -rf '" + dir + "'").c_str());

    std::printf("cpp: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
