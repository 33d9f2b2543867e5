// The C++ RAII wrapper of ffi/examples/govdata.hpp: results, exceptions with the
// status and code, and no leak when an exception unwinds. Run as: test_cpp REPO_ROOT.
#include <cstdio>
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

    std::printf("cpp: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
