/*
 * Reading command lines the way zkCli does: the tokenizer of
 * ZooKeeperMain.MyCommandOptions.parseCommand, the short-option rules of
 * Apache commons-cli's DefaultParser (1.4/1.5) that every zkCli command
 * uses, and Java's integer parsers. Pure functions: no I/O, no client.
 */
#include "cli/cli_int.h"

#include "common/alloc.h"
#include "common/digit.h"
#include "common/err.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Java's \s: space, \t, \n, \x0B, \f, \r. */
static bool is_java_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\x0b' || ch == '\f' || ch == '\r';
}

/*
 * Tries the group ([^"']\S*|"[^"]*"|'[^']*') at q; on success stores the end
 * of the match (exclusive) in *end.
 */
static bool match_group(const char *s, size_t n, size_t q, size_t *end)
{
    if (q >= n)
        return false;
    if (s[q] == '"' || s[q] == '\'') {
        const char *close = memchr(s + q + 1, s[q], n - q - 1);
        if (!close)
            return false;
        *end = (size_t)(close - s) + 1;
        return true;
    }
    size_t e = q + 1; /* [^"'] takes any one char, even a blank (see below) */
    while (e < n && !is_java_space(s[e]))
        e++;
    *end = e;
    return true;
}

static int push_arg(struct cli_argv *a, const char *s, size_t len)
{
    char **argv = pd_realloc(a->argv, (size_t)(a->argc + 2) * sizeof(*argv));
    if (!argv)
        return PD_ENOMEM;
    a->argv = argv;
    argv[a->argc] = pd_strndup(s, len);
    if (!argv[a->argc])
        return PD_ENOMEM;
    argv[++a->argc] = NULL;
    return 0;
}

int cli_tokenize(const char *line, struct cli_argv *out)
{
    *out = (struct cli_argv){0};
    size_t n = strlen(line);
    size_t pos = 0;
    while (pos < n) {
        /*
         * find(): the first start position where \s*(group)\s* matches. The
         * leading \s* is greedy but backtracks, so when the word after the
         * blanks cannot start the group (a quote with no partner), the last
         * blank is taken by [^"'] instead. The trailing \s* eats the blanks
         * after a match, so that only happens before the first word.
         */
        size_t start = pos, q = 0, end = 0;
        bool found = false;
        for (; start < n && !found; start++) {
            size_t w = start;
            while (w < n && is_java_space(line[w]))
                w++;
            for (q = w + 1; q-- > start;) {
                if (match_group(line, n, q, &end)) {
                    found = true;
                    break;
                }
            }
        }
        if (!found)
            break;
        const char *tok = line + q;
        size_t len = end - q;
        /* QUOTED_PATTERN ^(['"])(.*)(\1)$ strips one pair of matching quotes. */
        if (len >= 2 && (tok[0] == '"' || tok[0] == '\'') && tok[len - 1] == tok[0] &&
            !memchr(tok, '\n', len)) {
            tok++;
            len -= 2;
        }
        if (push_arg(out, tok, len) != 0) {
            cli_argv_free(out);
            return PD_ENOMEM;
        }
        pos = end;
        while (pos < n && is_java_space(line[pos]))
            pos++;
    }
    return 0;
}

void cli_argv_free(struct cli_argv *a)
{
    for (int i = 0; a->argv && i < a->argc; i++)
        pd_free(a->argv[i]);
    pd_free(a->argv);
    *a = (struct cli_argv){0};
}

/* ---- options ------------------------------------------------------------------- */

/* 0: not an option letter of spec; 1: a flag; 2: takes a value. */
static int opt_kind(const char *spec, char ch)
{
    if (ch == ':' || ch == '(' || ch == ')' || ch == '\0')
        return 0;
    const char *p = strchr(spec, ch);
    if (!p)
        return 0;
    return p[1] == ':' ? 2 : 1;
}

static bool is_negative_number(const char *t)
{
    /* commons-cli: Double.parseDouble succeeds and the token starts with '-'. */
    if (t[0] != '-' || !t[1])
        return false;
    const char *p = t + 1;
    bool has_digit = false, has_dot = false;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9')
            has_digit = true;
        else if (*p == '.' && !has_dot)
            has_dot = true;
        else
            return false;
    }
    return has_digit;
}

/* DefaultParser.isShortOption: "-S", "-SV", "-S1S2" whose first letter is an option. */
static bool is_short_option(const char *spec, const char *t)
{
    if (t[0] != '-' || !t[1])
        return false;
    const char *name = t + 1;
    size_t len = strcspn(name, "=");
    if (len == 1 && opt_kind(spec, name[0]))
        return true;
    return len > 0 && opt_kind(spec, name[0]) != 0;
}

static int fail(struct cli_opts *o, const char *fmt, const char *what)
{
    snprintf(o->errmsg, sizeof(o->errmsg), fmt, what);
    return -1;
}

/*
 * OptionGroup.setSelected: the option of letter's "( )" group in spec that
 * was given already, other than letter itself; 0 when there is none (or no
 * group). At most one of a group is ever present, so it is the selected one.
 */
static char group_rival(const char *spec, const struct cli_opts *o, char letter)
{
    const char *at = strchr(spec, letter), *open = NULL;
    for (const char *p = spec; p < at; p++) {
        if (*p == '(')
            open = p;
        else if (*p == ')')
            open = NULL;
    }
    if (!open)
        return 0;
    for (const char *p = open + 1; *p && *p != ')'; p++)
        if (*p != letter && opt_kind(spec, *p) && o->value[(unsigned char)*p])
            return *p;
    return 0;
}

static int add_arg(struct cli_opts *o, const char *t)
{
    if (o->nargs >= CLI_MAX_ARGS)
        return fail(o, "too many arguments%s", "");
    o->args[o->nargs++] = t;
    return 0;
}

int cli_opts_parse(struct cli_opts *o, const char *spec, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    bool is_skipping = false;
    char pending = 0; /* an option still waiting for its value */
    for (int i = 0; i < argc; i++) {
        const char *t = argv[i];
        if (is_skipping) {
            if (add_arg(o, t) != 0)
                return -1;
            continue;
        }
        if (strcmp(t, "--") == 0) {
            is_skipping = true;
            continue;
        }
        if (pending && (!is_short_option(spec, t) || is_negative_number(t))) {
            const char **value = &o->value[(unsigned char)pending];
            if (!*value || !**value) /* getOptionValue: the first one given */
                *value = t;
            pending = 0;
            continue;
        }
        if (pending)
            return fail(o,
                        "org.apache.commons.cli.MissingArgumentException: Missing argument for "
                        "option: %s",
                        (char[]){pending, '\0'});
        if (t[0] == '-' && t[1] == '-')
            return fail(o,
                        "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized "
                        "option: %s",
                        t);
        if (t[0] != '-' || !t[1]) {
            if (add_arg(o, t) != 0)
                return -1;
            continue;
        }
        /* -S, -SV (a value glued on), -S1S2 (bundled flags): letter by letter. */
        for (const char *p = t + 1; *p; p++) {
            int kind = opt_kind(spec, *p);
            if (kind == 0)
                return fail(o,
                            "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized "
                            "option: %s",
                            t);
            unsigned char letter = (unsigned char)*p;
            char rival = group_rival(spec, o, *p);
            if (rival) {
                snprintf(o->errmsg, sizeof(o->errmsg),
                         "org.apache.commons.cli.AlreadySelectedException: The option '%c' was "
                         "specified but an option from this group has already been selected: "
                         "'%c'",
                         *p, rival);
                return -1;
            }
            if (kind == 1) {
                if (!o->value[letter])
                    o->value[letter] = "";
                continue;
            }
            if (p[1]) {
                if (!o->value[letter] || !*o->value[letter])
                    o->value[letter] = p + 1;
            } else {
                pending = (char)letter;
            }
            break;
        }
    }
    if (pending)
        return fail(o,
                    "org.apache.commons.cli.MissingArgumentException: Missing argument for "
                    "option: %s",
                    (char[]){pending, '\0'});
    return 0;
}

bool cli_opt_has(const struct cli_opts *o, char letter)
{
    return o->value[(unsigned char)letter] != NULL;
}

/* ---- Java integers -------------------------------------------------------------- */

static bool parse_radix(const char *s, int radix, int64_t min, int64_t max, int64_t *out)
{
    bool is_neg = false;
    if (*s == '-' || *s == '+') {
        is_neg = *s == '-';
        s++;
    }
    if (!*s)
        return false;
    /* Accumulate negatively, as Java does, so that the minimum fits. */
    int64_t v = 0;
    for (; *s; s++) {
        int d = pd_digit_value(*s);
        if (d < 0 || d >= radix)
            return false;
        if (v < (INT64_MIN + d) / radix)
            return false;
        v = v * radix - d;
    }
    if (!is_neg) {
        if (v == INT64_MIN)
            return false;
        v = -v;
    }
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool cli_parse_int(const char *s, int32_t *out)
{
    int64_t v;
    if (!parse_radix(s, 10, INT32_MIN, INT32_MAX, &v))
        return false;
    *out = (int32_t)v;
    return true;
}

bool cli_parse_long(const char *s, int64_t *out)
{
    return parse_radix(s, 10, INT64_MIN, INT64_MAX, out);
}

bool cli_decode_int(const char *s, int32_t *out)
{
    bool is_neg = false;
    const char *p = s;
    if (*p == '-' || *p == '+') {
        is_neg = *p == '-';
        p++;
    }
    int radix = 10;
    if (strncmp(p, "0x", 2) == 0 || strncmp(p, "0X", 2) == 0) {
        radix = 16;
        p += 2;
    } else if (*p == '#') {
        radix = 16;
        p++;
    } else if (*p == '0' && p[1]) {
        radix = 8;
        p++;
    }
    if (*p == '-' || *p == '+' || !*p)
        return false;
    char buf[64];
    if (snprintf(buf, sizeof(buf), "%s%s", is_neg ? "-" : "", p) >= (int)sizeof(buf))
        return false;
    int64_t v;
    if (!parse_radix(buf, radix, INT32_MIN, INT32_MAX, &v))
        return false;
    *out = (int32_t)v;
    return true;
}

/* ---- completion ------------------------------------------------------------------ */

int cli_complete_split(const char *token, char **dir, const char **prefix)
{
    const char *slash = strrchr(token, '/');
    *dir = NULL;
    *prefix = token;
    if (!slash)
        return 0;
    /* Only the root ends in '/': "/a" lists "/", "/a/b" lists "/a". */
    size_t n = slash == token ? 1 : (size_t)(slash - token);
    *dir = pd_strndup(token, n);
    if (!*dir)
        return PD_ENOMEM;
    *prefix = slash + 1;
    return 0;
}
