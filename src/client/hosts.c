/*
 * The connection string ("h1:2181,h2:2181/app") and client-side path checks.
 * Facts from Apache ZooKeeper's ConnectStringParser (hosts, default port
 * 2181, chroot after the first '/') and PathUtils.validatePath.
 */
#include "client/client_int.h"

#include "common/alloc.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#define DEFAULT_PORT "2181"

/* Resolves one "host[:port]" or "[v6]:port" and appends its addresses. */
static int add_host(const char *s, size_t n, struct host **hosts, int *count, int *cap)
{
    char buf[300];
    if (n == 0 || n >= sizeof(buf))
        return PDK_ZBADARGUMENTS;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *host = buf;
    const char *port = DEFAULT_PORT;
    if (host[0] == '[') {
        char *end = strchr(host, ']');
        if (!end)
            return PDK_ZBADARGUMENTS;
        *end = '\0';
        host++;
        if (end[1] == ':')
            port = end + 2;
        else if (end[1] != '\0')
            return PDK_ZBADARGUMENTS;
    } else {
        char *colon = strrchr(host, ':');
        if (colon) {
            *colon = '\0';
            port = colon + 1;
        }
    }
    if (host[0] == '\0' || port[0] == '\0')
        return PDK_ZBADARGUMENTS;
    for (const char *p = port; *p; p++)
        if (*p < '0' || *p > '9')
            return PDK_ZBADARGUMENTS;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
        return PDK_ZBADARGUMENTS;
    int rc = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof(struct sockaddr_storage))
            continue;
        if (*count == *cap) {
            int ncap = *cap ? *cap * 2 : 4;
            struct host *nh = pd_realloc(*hosts, (size_t)ncap * sizeof(**hosts));
            if (!nh) {
                rc = PDK_ZSYSTEMERROR;
                break;
            }
            *hosts = nh;
            *cap = ncap;
        }
        struct host *h = &(*hosts)[(*count)++];
        memset(h, 0, sizeof(*h));
        memcpy(&h->addr, ai->ai_addr, ai->ai_addrlen);
        h->addr_len = ai->ai_addrlen;
        char ip[INET6_ADDRSTRLEN] = "?";
        int p = 0;
        if (ai->ai_family == AF_INET) {
            struct sockaddr_in *sin = (struct sockaddr_in *)ai->ai_addr;
            inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
            p = ntohs(sin->sin_port);
            snprintf(h->name, sizeof(h->name), "%s:%d", ip, p);
        } else if (ai->ai_family == AF_INET6) {
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ai->ai_addr;
            inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
            p = ntohs(sin6->sin6_port);
            snprintf(h->name, sizeof(h->name), "[%s]:%d", ip, p);
        }
    }
    freeaddrinfo(res);
    return rc;
}

int hosts_parse(const char *spec, struct host **hosts, int *n, char **chroot)
{
    *hosts = NULL;
    *n = 0;
    *chroot = NULL;
    if (!spec)
        return PDK_ZBADARGUMENTS;
    /* The chroot starts at the first '/' (a host list holds none). */
    const char *slash = strchr(spec, '/');
    size_t list_len = slash ? (size_t)(slash - spec) : strlen(spec);
    int rc = 0;
    int cap = 0;
    if (slash && strcmp(slash, "/") != 0) {
        if (path_validate(slash, false) != 0)
            return PDK_ZBADARGUMENTS;
        *chroot = pd_strdup(slash);
        if (!*chroot)
            return PDK_ZSYSTEMERROR;
    }
    const char *p = spec;
    const char *end = spec + list_len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        /* Tolerate spaces around entries, as ZooKeeper trims them. */
        const char *a = p, *b = stop;
        while (a < b && *a == ' ')
            a++;
        while (b > a && b[-1] == ' ')
            b--;
        if (b > a) {
            rc = add_host(a, (size_t)(b - a), hosts, n, &cap);
            if (rc)
                goto out_fail;
        }
        p = comma ? comma + 1 : end;
    }
    if (*n == 0) {
        rc = PDK_ZBADARGUMENTS;
        goto out_fail;
    }
    return 0;

out_fail:
    pd_free(*hosts);
    pd_free(*chroot);
    *hosts = NULL;
    *chroot = NULL;
    *n = 0;
    return rc;
}

int path_validate(const char *path, bool is_sequential)
{
    if (!path || path[0] != '/')
        return PDK_ZBADARGUMENTS;
    size_t len = strlen(path);
    if (len == 1)
        return 0; /* "/" alone; sequential "/" becomes "/0000000001" */
    if (path[len - 1] == '/' && !is_sequential)
        return PDK_ZBADARGUMENTS;
    /* Components: no empty ones, no "." or "..", no control or reserved characters. */
    const unsigned char *s = (const unsigned char *)path;
    for (size_t i = 1; i < len; i++) {
        unsigned char ch = s[i];
        if (ch == '/' && s[i - 1] == '/')
            return PDK_ZBADARGUMENTS;
        if (ch == '.' && s[i - 1] == '/') {
            bool dot1 = (i + 1 == len || s[i + 1] == '/');
            bool dot2 = s[i + 1] == '.' && (i + 2 == len || s[i + 2] == '/');
            if (dot1 || dot2)
                return PDK_ZBADARGUMENTS;
        }
        if ((ch > 0x00 && ch <= 0x1f) || ch == 0x7f)
            return PDK_ZBADARGUMENTS;
        /* U+D800-U+F8FF and U+FFF0-U+FFFF in UTF-8: ED A0..BF, EE, EF 80..A3, EF BF B0..BF */
        if (ch == 0xED && i + 1 < len && s[i + 1] >= 0xA0)
            return PDK_ZBADARGUMENTS;
        if (ch == 0xEE)
            return PDK_ZBADARGUMENTS;
        if (ch == 0xEF && i + 1 < len &&
            (s[i + 1] <= 0xA3 || (s[i + 1] == 0xBF && i + 2 < len && s[i + 2] >= 0xB0)))
            return PDK_ZBADARGUMENTS;
    }
    return 0;
}
