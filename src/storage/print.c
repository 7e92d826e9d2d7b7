/*
 * The inspection tools' shared command line and value printers (print.h).
 * The text forms follow Apache ZooKeeper's LogFormatter and
 * SnapshotFormatter in spirit, not byte for byte; the JSON forms are ours.
 */
#include "storage/print.h"

#include <inttypes.h>
#include <string.h>

int print_parse_args(int argc, char **argv, void (*usage)(FILE *f), const char **path, bool *json)
{
    *path = NULL;
    *json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            *json = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (!*path && argv[i][0] != '-') {
            *path = argv[i];
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!*path) {
        usage(stderr);
        return 2;
    }
    return -1;
}

/*
 * s[0..len) quoted: between double quotes, control characters as \uNNNN, in
 * JSON; between single quotes, control characters as \xNN, in text. The
 * quote and \ are escaped by a backslash.
 */
static void quoted(FILE *f, bool json, const char *s, size_t len)
{
    char q = json ? '"' : '\'';
    fputc(q, f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == q || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, json ? "\\u%04x" : "\\x%02x", c);
        else
            fputc(c, f);
    }
    fputc(q, f);
}

void print_str(FILE *f, bool json, const char *s)
{
    if (!s)
        fputs("null", f);
    else
        quoted(f, json, s, strlen(s));
}

static void hex(FILE *f, const uint8_t *p, int32_t len)
{
    for (int32_t i = 0; i < len; i++)
        fprintf(f, "%02x", p[i]);
}

bool print_data(FILE *f, bool json, struct jute_buf b)
{
    if (b.len < 0) {
        fputs("null", f);
        return false;
    }
    if (json) {
        fputc('"', f);
        hex(f, b.data, b.len);
        fputc('"', f);
        return false;
    }
    bool printable = true;
    for (int32_t i = 0; i < b.len; i++)
        if (b.data[i] < 0x20 || b.data[i] > 0x7e)
            printable = false;
    int32_t n = b.len > PRINT_DATA_TEXT_MAX ? PRINT_DATA_TEXT_MAX : b.len;
    if (printable) {
        quoted(f, false, (const char *)b.data, (size_t)n);
    } else {
        fputs("0x", f);
        hex(f, b.data, n);
    }
    return n < b.len;
}

void print_acl(FILE *f, bool json, const struct jute_acl_vec *v)
{
    if (v->is_null) {
        fputs("null", f);
        return;
    }
    fputc('[', f);
    for (int32_t i = 0; i < v->count; i++) {
        const struct jute_acl *a = &v->items[i];
        if (i)
            fputs(json ? "," : ", ", f);
        if (json) {
            fprintf(f, "{\"perms\":%" PRId32 ",\"scheme\":", a->perms);
            print_str(f, true, a->id.scheme);
            fputs(",\"id\":", f);
            print_str(f, true, a->id.id);
            fputc('}', f);
        } else {
            fprintf(f, "%" PRId32 ":%s:%s", a->perms, a->id.scheme ? a->id.scheme : "null",
                    a->id.id ? a->id.id : "null");
        }
    }
    fputc(']', f);
}
