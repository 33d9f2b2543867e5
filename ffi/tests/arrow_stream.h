/*
 * A small producer and reader of the Arrow C stream interface for the C tests: a
 * stream of record batches with UTF-8 string columns (nulls allowed) and 32-bit
 * integer columns, built by hand as a C or C++ system would, and a reader of the
 * string and integer columns of a stream the library returns. Header-only; every
 * function is static. Memory is released through the interface's release callbacks,
 * so valgrind sees a leak or a double free on either side.
 */
#ifndef GOVDATA_TESTS_ARROW_STREAM_H
#define GOVDATA_TESTS_ARROW_STREAM_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "govdata.h"

/* One column of the table a stream yields: strings (NULL entries are nulls) or int32s. */
typedef struct {
    const char *name;
    const char *const *strings; /* or NULL for an int32 column */
    const int32_t *ints;
} as_column;

/* The table a stream yields, `rows` rows cut into batches of at most `batch_rows`. */
typedef struct {
    size_t ncols;
    const as_column *cols;
    int64_t rows;
    int64_t batch_rows;
    int64_t next;   /* the first row of the next batch */
    int released;   /* how many arrays the consumer released */
    int produced;   /* how many arrays were produced */
} as_table;

/* ---- schema ---- */

static void as_schema_release(struct ArrowSchema *s) {
    for (int64_t i = 0; i < s->n_children; i++) {
        struct ArrowSchema *c = s->children[i];
        if (c->release != NULL) c->release(c);
        free(c);
    }
    free(s->children);
    s->release = NULL;
}

static void as_child_schema_release(struct ArrowSchema *s) { s->release = NULL; }

static int as_get_schema(struct ArrowArrayStream *stream, struct ArrowSchema *out) {
    const as_table *t = (const as_table *)stream->private_data;
    memset(out, 0, sizeof *out);
    out->format = "+s";
    out->name = "";
    out->n_children = (int64_t)t->ncols;
    out->children = (struct ArrowSchema **)calloc(t->ncols, sizeof(struct ArrowSchema *));
    for (size_t i = 0; i < t->ncols; i++) {
        struct ArrowSchema *c = (struct ArrowSchema *)calloc(1, sizeof *c);
        c->format = t->cols[i].strings != NULL ? "u" : "i";
        c->name = t->cols[i].name;
        c->flags = ARROW_FLAG_NULLABLE;
        c->release = as_child_schema_release;
        out->children[i] = c;
    }
    out->release = as_schema_release;
    return 0;
}

/* ---- arrays ---- */

/* The buffers one array owns, freed by its release callback. */
typedef struct {
    void *owned[3];
    as_table *table; /* counts releases of the top-level array */
} as_private;

static void as_array_release(struct ArrowArray *a) {
    as_private *p = (as_private *)a->private_data;
    for (int64_t i = 0; i < a->n_children; i++) {
        struct ArrowArray *c = a->children[i];
        if (c->release != NULL) c->release(c);
        free(c);
    }
    free(a->children);
    for (int i = 0; i < 3; i++) free(p->owned[i]);
    if (p->table != NULL) p->table->released++;
    free(p);
    free((void *)a->buffers);
    a->release = NULL;
}

static struct ArrowArray *as_child(const as_column *col, int64_t from, int64_t n) {
    struct ArrowArray *a = (struct ArrowArray *)calloc(1, sizeof *a);
    as_private *p = (as_private *)calloc(1, sizeof *p);
    a->length = n;
    a->private_data = p;
    a->release = as_array_release;
    if (col->strings == NULL) {
        /* int32 values are handed over where the caller keeps them: no copy. */
        a->n_buffers = 2;
        a->buffers = (const void **)calloc(2, sizeof(void *));
        a->buffers[1] = col->ints + from;
        return a;
    }
    size_t bytes = 0;
    for (int64_t i = 0; i < n; i++) {
        if (col->strings[from + i] != NULL) bytes += strlen(col->strings[from + i]);
    }
    uint8_t *validity = (uint8_t *)calloc((size_t)(n + 7) / 8 + 1, 1);
    int32_t *offsets = (int32_t *)calloc((size_t)n + 1, sizeof(int32_t));
    char *data = (char *)malloc(bytes + 1);
    int64_t nulls = 0;
    size_t at = 0;
    for (int64_t i = 0; i < n; i++) {
        const char *s = col->strings[from + i];
        if (s == NULL) {
            nulls++;
        } else {
            validity[i / 8] |= (uint8_t)(1u << (i % 8));
            size_t len = strlen(s);
            memcpy(data + at, s, len);
            at += len;
        }
        offsets[i + 1] = (int32_t)at;
    }
    a->null_count = nulls;
    a->n_buffers = 3;
    a->buffers = (const void **)calloc(3, sizeof(void *));
    a->buffers[0] = nulls > 0 ? validity : NULL;
    a->buffers[1] = offsets;
    a->buffers[2] = data;
    p->owned[0] = validity;
    p->owned[1] = offsets;
    p->owned[2] = data;
    return a;
}

static int as_get_next(struct ArrowArrayStream *stream, struct ArrowArray *out) {
    as_table *t = (as_table *)stream->private_data;
    memset(out, 0, sizeof *out);
    if (t->next >= t->rows) return 0; /* the end: a released array */
    int64_t n = t->rows - t->next < t->batch_rows ? t->rows - t->next : t->batch_rows;
    as_private *p = (as_private *)calloc(1, sizeof *p);
    p->table = t;
    out->length = n;
    out->n_buffers = 1;
    out->buffers = (const void **)calloc(1, sizeof(void *));
    out->n_children = (int64_t)t->ncols;
    out->children = (struct ArrowArray **)calloc(t->ncols, sizeof(struct ArrowArray *));
    for (size_t i = 0; i < t->ncols; i++) out->children[i] = as_child(&t->cols[i], t->next, n);
    out->private_data = p;
    out->release = as_array_release;
    t->next += n;
    t->produced++;
    return 0;
}

static const char *as_get_last_error(struct ArrowArrayStream *stream) {
    (void)stream;
    return NULL;
}

static void as_stream_release(struct ArrowArrayStream *stream) { stream->release = NULL; }

/* A stream over `t` (which must outlive it and the arrays it yields). */
static void as_stream(as_table *t, struct ArrowArrayStream *out) {
    t->next = 0;
    out->get_schema = as_get_schema;
    out->get_next = as_get_next;
    out->get_last_error = as_get_last_error;
    out->release = as_stream_release;
    out->private_data = t;
}

/* ---- reading a stream the library returns ---- */

/* A column read back: names and values, copied out of the stream's arrays. */
typedef struct {
    char name[64];
    char format[4];
    int64_t rows;
    char **strings;       /* utf8 columns: copies, NULL for a null */
    int32_t *ints;        /* int32 columns */
    const void *first_values; /* the values buffer of the first batch, as received */
} as_read_column;

typedef struct {
    size_t ncols;
    as_read_column *cols;
    int64_t rows;
    int batches;
} as_read;

static int as_valid(const struct ArrowArray *a, int64_t i) {
    const uint8_t *v = (const uint8_t *)a->buffers[0];
    int64_t j = a->offset + i;
    return v == NULL || (v[j / 8] >> (j % 8)) & 1;
}

/* Reads the whole stream and releases it. 0 on success, else the failing call's code. */
static int as_read_stream(struct ArrowArrayStream *s, as_read *out) {
    memset(out, 0, sizeof *out);
    struct ArrowSchema schema;
    int rc = s->get_schema(s, &schema);
    if (rc != 0) return rc;
    out->ncols = (size_t)schema.n_children;
    out->cols = (as_read_column *)calloc(out->ncols ? out->ncols : 1, sizeof(as_read_column));
    for (size_t c = 0; c < out->ncols; c++) {
        snprintf(out->cols[c].name, sizeof out->cols[c].name, "%s", schema.children[c]->name);
        snprintf(out->cols[c].format, sizeof out->cols[c].format, "%s", schema.children[c]->format);
    }
    schema.release(&schema);
    for (;;) {
        struct ArrowArray batch;
        rc = s->get_next(s, &batch);
        if (rc != 0) break;
        if (batch.release == NULL) break;
        int64_t n = batch.length;
        for (size_t c = 0; c < out->ncols; c++) {
            as_read_column *col = &out->cols[c];
            const struct ArrowArray *a = batch.children[c];
            if (out->batches == 0) col->first_values = a->n_buffers > 1 ? a->buffers[1] : NULL;
            if (strcmp(col->format, "u") == 0) {
                col->strings = (char **)realloc(col->strings, (size_t)(col->rows + n) * sizeof(char *));
                const int32_t *off = (const int32_t *)a->buffers[1];
                const char *data = (const char *)a->buffers[2];
                for (int64_t i = 0; i < n; i++) {
                    char *v = NULL;
                    if (as_valid(a, i)) {
                        int32_t lo = off[a->offset + i], hi = off[a->offset + i + 1];
                        v = (char *)malloc((size_t)(hi - lo) + 1);
                        memcpy(v, data + lo, (size_t)(hi - lo));
                        v[hi - lo] = '\0';
                    }
                    col->strings[col->rows + i] = v;
                }
            } else if (strcmp(col->format, "i") == 0) {
                col->ints = (int32_t *)realloc(col->ints, (size_t)(col->rows + n) * sizeof(int32_t));
                const int32_t *vals = (const int32_t *)a->buffers[1];
                for (int64_t i = 0; i < n; i++) col->ints[col->rows + i] = vals[a->offset + i];
            }
            col->rows += n;
        }
        out->rows += n;
        out->batches++;
        batch.release(&batch);
    }
    s->release(s);
    return rc;
}

static void as_read_free(as_read *r) {
    for (size_t c = 0; c < r->ncols; c++) {
        if (r->cols[c].strings != NULL) {
            for (int64_t i = 0; i < r->cols[c].rows; i++) free(r->cols[c].strings[i]);
        }
        free(r->cols[c].strings);
        free(r->cols[c].ints);
    }
    free(r->cols);
    memset(r, 0, sizeof *r);
}

static const as_read_column *as_find(const as_read *r, const char *name) {
    for (size_t c = 0; c < r->ncols; c++) {
        if (strcmp(r->cols[c].name, name) == 0) return &r->cols[c];
    }
    return NULL;
}

#endif /* GOVDATA_TESTS_ARROW_STREAM_H */
