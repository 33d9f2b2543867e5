// A C++17 RAII wrapper over govdata.h: the engine is a move-only object that frees
// its handle, strings come back as std::string, and a failure is a govdata::Error
// carrying the status and the message. Header-only; link with -lgovdata.
#ifndef GOVDATA_HPP
#define GOVDATA_HPP

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "govdata.h"

namespace govdata {

// A call that made no result: the status (a gd_status) and the library's message.
class Error : public std::runtime_error {
public:
    Error(int status, const std::string &message)
        : std::runtime_error(message), status_(status) {}
    int status() const noexcept { return status_; }
    // The status's name, such as "GD_ERR_REQUEST_INVALID".
    const char *name() const noexcept {
        const char *n = gd_status_name(status_);
        return n != nullptr ? n : "GD_UNKNOWN";
    }
    // The core's error code, such as "request_invalid", or "" for the C boundary's own.
    std::string code() const {
        const char *c = gd_status_code(status_);
        return c != nullptr ? c : "";
    }

private:
    int status_;
};

namespace detail {
inline std::string last_error_message() {
    std::size_t len = 0;
    if (gd_last_error_message(nullptr, 0, &len) != GD_OK) return {};
    std::string message(len + 1, '\0');
    if (gd_last_error_message(message.data(), message.size(), &len) != GD_OK) return {};
    message.resize(len);
    return message;
}

inline void check(int status) {
    if (status != GD_OK) throw Error(status, last_error_message());
}

struct StringFree {
    void operator()(char *s) const noexcept { gd_string_free(s); }
};

inline std::string take(char *s) {
    std::unique_ptr<char, StringFree> owned(s);
    return std::string(owned.get());
}
}  // namespace detail

// What gd_engine_check answered.
struct Check {
    bool allowed;
    std::uint32_t obligations;  // GD_OBLIGATION_* bits; apply each before acting
};

// The policy engine. Thread-safe: share one Engine between threads by reference.
class Engine {
public:
    // The default policy pack and the example inventory.
    static Engine with_defaults() {
        gd_engine *raw = nullptr;
        detail::check(gd_engine_new_default(&raw));
        return Engine(raw);
    }

    // A policy pack directory and an inventory file.
    static Engine from_dir(const std::string &policies_dir, const std::string &inventory_path) {
        gd_engine *raw = nullptr;
        detail::check(gd_engine_new_from_dir(policies_dir.c_str(), inventory_path.c_str(), &raw));
        return Engine(raw);
    }

    // The decision JSON for a request JSON; throws when no decision could be made.
    std::string decide_json(const std::string &request) const {
        char *out = nullptr;
        detail::check(gd_engine_decide_json(handle_.get(), request.c_str(), &out));
        return detail::take(out);
    }

    // A JSON array of decisions (or per-request errors) for a JSON array of requests.
    std::string decide_many_json(const std::string &requests) const {
        char *out = nullptr;
        detail::check(gd_engine_decide_many_json(handle_.get(), requests.c_str(), &out));
        return detail::take(out);
    }

    // The fast path. Throws when no decision could be made (treat that as a deny).
    Check check(std::string_view principal, std::string_view action, std::string_view resource,
                gd_resource_kind kind = GD_RESOURCE_DATASET,
                std::string_view purpose = {}) const {
        std::uint32_t obligations = 0;
        int rc = gd_engine_check(handle_.get(), principal.data(), principal.size(), action.data(),
                                 action.size(), kind, resource.data(), resource.size(),
                                 purpose.empty() ? nullptr : purpose.data(), purpose.size(),
                                 &obligations);
        if (rc == GD_DENIED) return Check{false, 0};
        detail::check(rc);
        return Check{true, obligations};
    }

    void upsert_json(const std::string &kind, const std::string &record) {
        detail::check(gd_engine_upsert_json(handle_.get(), kind.c_str(), record.c_str()));
    }

    void remove(const std::string &kind, const std::string &id) {
        detail::check(gd_engine_remove(handle_.get(), kind.c_str(), id.c_str()));
    }

    void replace_inventory_json(const std::string &inventory) {
        detail::check(gd_engine_replace_inventory_json(handle_.get(), inventory.c_str()));
    }

    void replace_inventory_file(const std::string &path) {
        detail::check(gd_engine_replace_inventory_file(handle_.get(), path.c_str()));
    }

    void reload_policies_dir(const std::string &dir) {
        detail::check(gd_engine_reload_policies_dir(handle_.get(), dir.c_str()));
    }

    void reload_default_policies() { detail::check(gd_engine_reload_default_policies(handle_.get())); }

    std::string policy_version() const {
        char *out = nullptr;
        detail::check(gd_engine_policy_version(handle_.get(), &out));
        return detail::take(out);
    }

    // The C handle, for calls this wrapper does not cover. Still owned by the Engine.
    gd_engine *handle() const noexcept { return handle_.get(); }

private:
    struct Free {
        void operator()(gd_engine *e) const noexcept { gd_engine_free(e); }
    };
    explicit Engine(gd_engine *raw) : handle_(raw) {}
    std::unique_ptr<gd_engine, Free> handle_;
};

}  // namespace govdata

#endif  // GOVDATA_HPP
