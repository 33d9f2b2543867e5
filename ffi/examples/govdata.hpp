// A C++17 RAII wrapper over govdata.h: the engine, the audit log and the vault are
// move-only objects that free their handles, strings come back as std::string and
// buffers as std::vector<std::uint8_t>, and a failure is a govdata::Error carrying
// the status and the message. Header-only; link with -lgovdata.
#ifndef GOVDATA_HPP
#define GOVDATA_HPP

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

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

// Copies a buffer of the library into a vector and frees (wipes) the original. The
// copy is not wiped: clear a plaintext's vector yourself when it matters.
inline std::vector<std::uint8_t> take_buffer(std::uint8_t *data, std::size_t len) {
    struct Free {
        std::size_t len;
        void operator()(std::uint8_t *p) const noexcept { gd_buffer_free(p, len); }
    };
    std::unique_ptr<std::uint8_t, Free> owned(data, Free{len});
    return std::vector<std::uint8_t>(owned.get(), owned.get() + len);
}

inline const char *or_null(const std::string &s) { return s.empty() ? nullptr : s.c_str(); }
}  // namespace detail

class AuditLog;

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

    // Records every decision in `log` (the decision JSON then carries its audit_seq).
    // The engine keeps the log open as long as it is attached.
    inline void attach_audit(const AuditLog &log);

    void detach_audit() { detail::check(gd_engine_detach_audit(handle_.get())); }

    // The C handle, for calls this wrapper does not cover. Still owned by the Engine.
    gd_engine *handle() const noexcept { return handle_.get(); }

private:
    struct Free {
        void operator()(gd_engine *e) const noexcept { gd_engine_free(e); }
    };
    explicit Engine(gd_engine *raw) : handle_(raw) {}
    std::unique_ptr<gd_engine, Free> handle_;
};

// The tamper-evident audit log of one directory. Thread-safe.
class AuditLog {
public:
    // Opens (or creates) the log in `dir`, sealed with a GD_AUDIT_KEY_LEN-byte key.
    static AuditLog open(const std::string &dir, const std::uint8_t *key, std::size_t key_len,
                         gd_sync_mode sync = GD_SYNC_ALWAYS) {
        gd_audit *raw = nullptr;
        detail::check(gd_audit_open(dir.c_str(), key, key_len, sync, &raw));
        return AuditLog(raw);
    }

    // Appends an event of the host's own; returns its sequence number.
    std::uint64_t append_json(const std::string &event) const {
        std::uint64_t seq = 0;
        detail::check(gd_audit_append_json(handle_.get(), event.c_str(), &seq));
        return seq;
    }

    void sync() const { detail::check(gd_audit_sync(handle_.get())); }

    std::uint64_t last_seq() const {
        std::uint64_t seq = 0;
        detail::check(gd_audit_last_seq(handle_.get(), &seq));
        return seq;
    }

    std::string checkpoint() const {
        char *out = nullptr;
        detail::check(gd_audit_checkpoint(handle_.get(), &out));
        return detail::take(out);
    }

    // The verification report JSON; throws GD_ERR_AUDIT_TAMPERED and the like. An
    // empty checkpoint verifies without one.
    std::string verify(const std::string &checkpoint = {}) const {
        char *out = nullptr;
        detail::check(gd_audit_verify(handle_.get(), detail::or_null(checkpoint), &out));
        return detail::take(out);
    }

    // The records matching a filter JSON, as a JSON array (the host's own use).
    std::string query_json(const std::string &filter = "{}") const {
        char *out = nullptr;
        detail::check(gd_audit_query_json(handle_.get(), filter.c_str(), &out));
        return detail::take(out);
    }

    // What `viewer` may see: {"decision": {...}, "records": [...]}.
    std::string view_json(const Engine &engine, const std::string &viewer,
                          const std::string &filter = "{}") const {
        char *out = nullptr;
        detail::check(gd_audit_view_json(handle_.get(), engine.handle(), viewer.c_str(),
                                         filter.c_str(), &out));
        return detail::take(out);
    }

    gd_audit *handle() const noexcept { return handle_.get(); }

private:
    struct Free {
        void operator()(gd_audit *a) const noexcept { gd_audit_free(a); }
    };
    explicit AuditLog(gd_audit *raw) : handle_(raw) {}
    std::unique_ptr<gd_audit, Free> handle_;
};

inline void Engine::attach_audit(const AuditLog &log) {
    detail::check(gd_engine_attach_audit(handle_.get(), log.handle()));
}

// Envelope encryption, key rotation and crypto-shredding. Thread-safe. The vault keeps
// the engine and the audit log it was made with.
class Vault {
public:
    // Creates a key store in `dir`, sealed by a GD_VAULT_KEY_LEN-byte master key.
    static Vault init(const std::string &dir, const std::uint8_t *master_key, std::size_t len,
                      const Engine &engine, const std::string &op, const AuditLog *audit = nullptr,
                      const std::string &witness = {}) {
        gd_vault *raw = nullptr;
        detail::check(gd_vault_init(dir.c_str(), master_key, len, engine.handle(), op.c_str(),
                                    detail::or_null(witness), audit ? audit->handle() : nullptr,
                                    &raw));
        return Vault(raw);
    }

    static Vault open(const std::string &dir, const std::uint8_t *master_key, std::size_t len,
                      const Engine &engine, const AuditLog *audit = nullptr) {
        gd_vault *raw = nullptr;
        detail::check(gd_vault_open(dir.c_str(), master_key, len, engine.handle(),
                                    audit ? audit->handle() : nullptr, &raw));
        return Vault(raw);
    }

    std::vector<std::uint8_t> encrypt(const std::string &dataset, gd_grade grade,
                                      const void *data, std::size_t len) const {
        std::uint8_t *out = nullptr;
        std::size_t out_len = 0;
        detail::check(gd_vault_encrypt(handle_.get(), dataset.c_str(), grade,
                                       static_cast<const std::uint8_t *>(data), len, &out, &out_len));
        return detail::take_buffer(out, out_len);
    }

    std::vector<std::uint8_t> decrypt(const std::string &dataset, gd_grade grade,
                                      const std::vector<std::uint8_t> &sealed) const {
        std::uint8_t *out = nullptr;
        std::size_t out_len = 0;
        detail::check(gd_vault_decrypt(handle_.get(), dataset.c_str(), grade, sealed.data(),
                                       sealed.size(), &out, &out_len));
        return detail::take_buffer(out, out_len);
    }

    std::uint64_t encrypt_file(const std::string &dataset, gd_grade grade, const std::string &in,
                               const std::string &out) const {
        std::uint64_t n = 0;
        detail::check(gd_vault_encrypt_file(handle_.get(), dataset.c_str(), grade, in.c_str(),
                                            out.c_str(), &n));
        return n;
    }

    std::uint64_t decrypt_file(const std::string &dataset, gd_grade grade, const std::string &in,
                               const std::string &out) const {
        std::uint64_t n = 0;
        detail::check(gd_vault_decrypt_file(handle_.get(), dataset.c_str(), grade, in.c_str(),
                                            out.c_str(), &n));
        return n;
    }

    void rotate_key(const std::string &op, const std::string &dataset,
                    const std::string &witness = {}) const {
        detail::check(gd_vault_rotate_key(handle_.get(), op.c_str(), detail::or_null(witness),
                                          dataset.c_str()));
    }

    void ensure_key(const std::string &op, const std::string &dataset,
                    const std::string &witness = {}) const {
        detail::check(gd_vault_ensure_key(handle_.get(), op.c_str(), detail::or_null(witness),
                                          dataset.c_str()));
    }

    // Crypto-shreds the dataset; returns the report JSON.
    std::string shred(const std::string &op, const std::string &dataset,
                      const std::string &witness = {}) const {
        char *out = nullptr;
        detail::check(gd_vault_shred(handle_.get(), op.c_str(), detail::or_null(witness),
                                     dataset.c_str(), &out));
        return detail::take(out);
    }

    std::string status_json() const {
        char *out = nullptr;
        detail::check(gd_vault_status_json(handle_.get(), &out));
        return detail::take(out);
    }

    gd_vault *handle() const noexcept { return handle_.get(); }

private:
    struct Free {
        void operator()(gd_vault *v) const noexcept { gd_vault_free(v); }
    };
    explicit Vault(gd_vault *raw) : handle_(raw) {}
    std::unique_ptr<gd_vault, Free> handle_;
};

}  // namespace govdata

#endif  // GOVDATA_HPP
