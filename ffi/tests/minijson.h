/*
 * A small JSON reader and writer for the C tests: enough to read the shared vectors
 * and the library's decision JSON, and to write a request object back as text.
 * Header-only; every function is static. Not for production use: it trusts its input
 * to be small and well-formed enough for tests, but it never reads out of bounds.
 */
#ifndef GOVDATA_TESTS_MINIJSON_H
#define GOVDATA_TESTS_MINIJSON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { MJ_NULL, MJ_BOOL, MJ_NUMBER, MJ_STRING, MJ_ARRAY, MJ_OBJECT } mj_type;

typedef struct mj {
    mj_type type;
    int boolean;
    char *text;          /* MJ_STRING: the decoded UTF-8; MJ_NUMBER: the literal */
    size_t n;            /* MJ_ARRAY, MJ_OBJECT: number of items */
    char **keys;         /* MJ_OBJECT: the keys, in order */
    struct mj *items;    /* MJ_ARRAY, MJ_OBJECT: the values */
} mj;

typedef struct {
    const char *p;
    const char *end;
    int depth;
    int failed;
} mj_parser;

static inline void mj_free_value(mj *v) {
    if (v == NULL) return;
    free(v->text);
    for (size_t i = 0; i < v->n; i++) {
        if (v->keys != NULL) free(v->keys[i]);
        mj_free_value(&v->items[i]);
    }
    free(v->keys);
    free(v->items);
    memset(v, 0, sizeof *v);
}

static inline void mj_free(mj *v) {
    if (v == NULL) return;
    mj_free_value(v);
    free(v);
}

static inline void mj_skip_ws(mj_parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static inline int mj_hex4(mj_parser *ps, unsigned *out) {
    if (ps->end - ps->p < 4) return 0;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = ps->p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    ps->p += 4;
    *out = v;
    return 1;
}

static inline void mj_put_utf8(char *buf, size_t *len, unsigned cp) {
    if (cp < 0x80) {
        buf[(*len)++] = (char)cp;
    } else if (cp < 0x800) {
        buf[(*len)++] = (char)(0xC0 | (cp >> 6));
        buf[(*len)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        buf[(*len)++] = (char)(0xE0 | (cp >> 12));
        buf[(*len)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*len)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        buf[(*len)++] = (char)(0xF0 | (cp >> 18));
        buf[(*len)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        buf[(*len)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*len)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* Parses a string token at ps->p (which is at the opening quote). */
static inline char *mj_parse_string(mj_parser *ps) {
    ps->p++; /* the quote */
    /* The decoded text is never longer than the encoded one. */
    const char *start = ps->p;
    size_t cap = 1;
    while (start + cap - 1 < ps->end && start[cap - 1] != '"') cap += (start[cap - 1] == '\\') ? 2 : 1;
    char *buf = malloc(cap + 4);
    if (buf == NULL) { ps->failed = 1; return NULL; }
    size_t len = 0;
    while (ps->p < ps->end && *ps->p != '"') {
        char c = *ps->p++;
        if (c != '\\') { buf[len++] = c; continue; }
        if (ps->p >= ps->end) break;
        char e = *ps->p++;
        switch (e) {
        case '"': buf[len++] = '"'; break;
        case '\\': buf[len++] = '\\'; break;
        case '/': buf[len++] = '/'; break;
        case 'b': buf[len++] = '\b'; break;
        case 'f': buf[len++] = '\f'; break;
        case 'n': buf[len++] = '\n'; break;
        case 'r': buf[len++] = '\r'; break;
        case 't': buf[len++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (!mj_hex4(ps, &cp)) { ps->failed = 1; free(buf); return NULL; }
            if (cp >= 0xD800 && cp < 0xDC00 && ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
                unsigned lo;
                ps->p += 2;
                if (!mj_hex4(ps, &lo)) { ps->failed = 1; free(buf); return NULL; }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            mj_put_utf8(buf, &len, cp);
            break;
        }
        default: ps->failed = 1; free(buf); return NULL;
        }
    }
    if (ps->p >= ps->end) { ps->failed = 1; free(buf); return NULL; }
    ps->p++; /* the closing quote */
    buf[len] = '\0';
    return buf;
}

static inline int mj_parse_value(mj_parser *ps, mj *out);

static inline int mj_push(mj *v, char *key, mj *item) {
    mj *items = realloc(v->items, (v->n + 1) * sizeof *items);
    if (items == NULL) return 0;
    v->items = items;
    if (v->type == MJ_OBJECT) {
        char **keys = realloc(v->keys, (v->n + 1) * sizeof *keys);
        if (keys == NULL) return 0;
        v->keys = keys;
        v->keys[v->n] = key;
    }
    v->items[v->n++] = *item;
    return 1;
}

static inline int mj_parse_value(mj_parser *ps, mj *out) {
    memset(out, 0, sizeof *out);
    mj_skip_ws(ps);
    if (ps->p >= ps->end || ++ps->depth > 64) return 0;
    int ok = 1;
    char c = *ps->p;
    if (c == '{' || c == '[') {
        out->type = c == '{' ? MJ_OBJECT : MJ_ARRAY;
        char close = c == '{' ? '}' : ']';
        ps->p++;
        mj_skip_ws(ps);
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
        } else {
            for (;;) {
                char *key = NULL;
                mj_skip_ws(ps);
                if (out->type == MJ_OBJECT) {
                    if (ps->p >= ps->end || *ps->p != '"') { ok = 0; break; }
                    key = mj_parse_string(ps);
                    mj_skip_ws(ps);
                    if (key == NULL || ps->p >= ps->end || *ps->p != ':') { free(key); ok = 0; break; }
                    ps->p++;
                }
                mj item;
                if (!mj_parse_value(ps, &item)) { free(key); mj_free_value(&item); ok = 0; break; }
                if (!mj_push(out, key, &item)) { free(key); mj_free_value(&item); ok = 0; break; }
                mj_skip_ws(ps);
                if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
                if (ps->p < ps->end && *ps->p == close) { ps->p++; break; }
                ok = 0;
                break;
            }
        }
    } else if (c == '"') {
        out->type = MJ_STRING;
        out->text = mj_parse_string(ps);
        ok = out->text != NULL;
    } else if (ps->end - ps->p >= 4 && strncmp(ps->p, "true", 4) == 0) {
        out->type = MJ_BOOL; out->boolean = 1; ps->p += 4;
    } else if (ps->end - ps->p >= 5 && strncmp(ps->p, "false", 5) == 0) {
        out->type = MJ_BOOL; ps->p += 5;
    } else if (ps->end - ps->p >= 4 && strncmp(ps->p, "null", 4) == 0) {
        out->type = MJ_NULL; ps->p += 4;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        const char *start = ps->p;
        while (ps->p < ps->end && strchr("+-0123456789.eE", *ps->p) != NULL) ps->p++;
        out->type = MJ_NUMBER;
        out->text = malloc((size_t)(ps->p - start) + 1);
        if (out->text == NULL) return 0;
        memcpy(out->text, start, (size_t)(ps->p - start));
        out->text[ps->p - start] = '\0';
    } else {
        ok = 0;
    }
    ps->depth--;
    return ok && !ps->failed;
}

/* Parses JSON text; NULL if it is not one well-formed value. Free with mj_free. */
static inline mj *mj_parse(const char *text) {
    mj_parser ps = { text, text + strlen(text), 0, 0 };
    mj *v = malloc(sizeof *v);
    if (v == NULL) return NULL;
    if (!mj_parse_value(&ps, v)) { mj_free(v); return NULL; }
    mj_skip_ws(&ps);
    if (ps.p != ps.end) { mj_free(v); return NULL; }
    return v;
}

/* The member `key` of an object, or NULL. */
static inline const mj *mj_get(const mj *obj, const char *key) {
    if (obj == NULL || obj->type != MJ_OBJECT) return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0) return &obj->items[i];
    return NULL;
}

/* The string value of member `key`, or NULL. */
static inline const char *mj_get_string(const mj *obj, const char *key) {
    const mj *v = mj_get(obj, key);
    return (v != NULL && v->type == MJ_STRING) ? v->text : NULL;
}

typedef struct { char *buf; size_t len, cap; } mj_out;

static inline void mj_emit(mj_out *o, const char *s, size_t n) {
    if (o->len + n + 1 > o->cap) {
        size_t cap = (o->cap + n + 1) * 2;
        char *b = realloc(o->buf, cap);
        if (b == NULL) { fprintf(stderr, "out of memory\n"); exit(2); }
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static inline void mj_emit_string(mj_out *o, const char *s) {
    mj_emit(o, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { char e[2] = { '\\', (char)c }; mj_emit(o, e, 2); }
        else if (c < 0x20) { char e[8]; snprintf(e, sizeof e, "\\u%04x", c); mj_emit(o, e, 6); }
        else mj_emit(o, (const char *)&c, 1);
    }
    mj_emit(o, "\"", 1);
}

static inline void mj_emit_value(mj_out *o, const mj *v) {
    switch (v->type) {
    case MJ_NULL: mj_emit(o, "null", 4); break;
    case MJ_BOOL: if (v->boolean) mj_emit(o, "true", 4); else mj_emit(o, "false", 5); break;
    case MJ_NUMBER: mj_emit(o, v->text, strlen(v->text)); break;
    case MJ_STRING: mj_emit_string(o, v->text); break;
    case MJ_ARRAY:
    case MJ_OBJECT:
        mj_emit(o, v->type == MJ_ARRAY ? "[" : "{", 1);
        for (size_t i = 0; i < v->n; i++) {
            if (i > 0) mj_emit(o, ",", 1);
            if (v->type == MJ_OBJECT) { mj_emit_string(o, v->keys[i]); mj_emit(o, ":", 1); }
            mj_emit_value(o, &v->items[i]);
        }
        mj_emit(o, v->type == MJ_ARRAY ? "]" : "}", 1);
        break;
    }
}

/* The value as JSON text; free with free(). */
static inline char *mj_dump(const mj *v) {
    mj_out o = { NULL, 0, 0 };
    mj_emit(&o, "", 0);
    mj_emit_value(&o, v);
    return o.buf;
}

/* A whole file as a NUL-terminated string, or NULL; free with free(). */
static inline char *mj_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = (cap + 4096 + 1) * 2;
            char *b = realloc(buf, cap);
            if (b == NULL) { free(buf); fclose(f); return NULL; }
            buf = b;
        }
        size_t got = fread(buf + len, 1, 4096, f);
        len += got;
        if (got < 4096) break;
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

#endif /* GOVDATA_TESTS_MINIJSON_H */
