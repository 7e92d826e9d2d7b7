/*
 * Znode path validation, as PathUtils.validatePath.
 *
 * ZooKeeper checks Java chars (UTF-16 units) of a string decoded from the
 * wire's UTF-8, where malformed input has become U+FFFD. Here the path is
 * UTF-8: a malformed sequence is invalid (U+FFFD is in the forbidden
 * U+FFF0..U+FFFF range), and a supplementary character is invalid (Java sees
 * surrogates, U+D800..U+DFFF, which are forbidden).
 */
#include "tree/tree_int.h"

/* Decodes one UTF-8 character at s (n bytes left): its code point and length, or 0 if malformed. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t min;
    if ((c & 0xe0) == 0xc0) {
        len = 2;
        min = 0x80;
        *cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        min = 0x800;
        *cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4;
        min = 0x10000;
        *cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3f);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return len;
}

static bool char_forbidden(uint32_t c)
{
    return (c > 0 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) ||
           c >= 0xfff0; /* U+FFF0..U+FFFF, and supplementary characters (surrogates in Java) */
}

/* The byte at i of path + (append_one ? "1" : ""). */
static char at(const char *path, size_t len, size_t i)
{
    return i < len ? path[i] : '1';
}

/* validatePath on path (len bytes) followed by "1" if append_one. */
static bool path_valid(const char *path, size_t len, bool append_one)
{
    size_t total = len + (append_one ? 1 : 0);
    if (total == 0 || path[0] != '/')
        return false;
    if (total == 1)
        return true;
    if (at(path, len, total - 1) == '/')
        return false;
    const unsigned char *s = (const unsigned char *)path;
    char lastc = '/';
    for (size_t i = 1; i < total;) {
        uint32_t cp;
        size_t k;
        if (i < len) {
            k = utf8_next(s + i, len - i, &cp);
            if (k == 0)
                return false;
        } else {
            cp = '1';
            k = 1;
        }
        char c = (char)(cp < 0x80 ? cp : 0x80);
        if (cp == 0)
            return false;
        if (c == '/' && lastc == '/')
            return false; /* empty node name */
        if (c == '.' && lastc == '.') {
            /* ".." as a whole component */
            if (at(path, len, i - 2) == '/' && (i + 1 == total || at(path, len, i + 1) == '/'))
                return false;
        } else if (c == '.') {
            if (at(path, len, i - 1) == '/' && (i + 1 == total || at(path, len, i + 1) == '/'))
                return false;
        } else if (char_forbidden(cp)) {
            return false;
        }
        lastc = c;
        i += k;
    }
    return true;
}

bool tree_path_valid(const char *path, bool is_sequential)
{
    if (!path)
        return false;
    /* validatePath(path, true) is validatePath(path + "1"). */
    return path_valid(path, strlen(path), is_sequential);
}

bool path_is_special(const char *path)
{
    return strcmp(path, "/") == 0 || strcmp(path, "/zookeeper") == 0 ||
           strcmp(path, "/zookeeper/quota") == 0 || strcmp(path, "/zookeeper/config") == 0;
}
