/*
 * What the inspection tools (`paddock log`, logtool.c; `paddock snapshot`,
 * snaptool.c) share: their command line, and printers for the values both
 * show, each in two forms: human-readable text, or a JSON value. Internal to
 * storage/: nothing outside the tools includes it.
 */
#ifndef PD_STORAGE_PRINT_H
#define PD_STORAGE_PRINT_H

#include "jute/jute.h"

#include <stdbool.h>
#include <stdio.h>

/* Data longer than this is cut in the text form (JSON always has all of it). */
#define PRINT_DATA_TEXT_MAX 64

/*
 * Parses a tool's arguments, "<file> [--json]" in any order, argv[0] being
 * the subcommand's name. Returns -1 when the tool should go on, with *path
 * (borrowed from argv) and *json set; otherwise the exit status, usage having
 * been printed: 0 for -h or --help (to stdout), 2 for bad arguments (to
 * stderr).
 */
int print_parse_args(int argc, char **argv, void (*usage)(FILE *f), const char **path, bool *json);

/*
 * s as a JSON string, or in text between single quotes with ' and \ escaped
 * by a backslash and control characters as \xNN; null when s is NULL.
 */
void print_str(FILE *f, bool json, const char *s);

/*
 * A data buffer: null when b.len < 0; in JSON its bytes in hex, as a string;
 * in text, its first PRINT_DATA_TEXT_MAX bytes quoted (as print_str) when
 * every byte is printable ASCII, else in hex after "0x". Returns true when
 * the text form was cut, for the caller to say so in its own words.
 */
bool print_data(FILE *f, bool json, struct jute_buf b);

/*
 * An ACL list between brackets: in JSON, objects with perms, scheme and id;
 * in text, "perms:scheme:id" items separated by ", ". null when v->is_null.
 */
void print_acl(FILE *f, bool json, const struct jute_acl_vec *v);

#endif
