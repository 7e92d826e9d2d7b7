/* Real servers for the client tests (server.h). */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define ZK_JAR "/usr/share/java/zookeeper.jar"

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool java_found(void)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *dir = strtok(buf, ":"); dir; dir = strtok(NULL, ":")) {
        char p[4200];
        snprintf(p, sizeof(p), "%s/java", dir);
        if (access(p, X_OK) == 0)
            return true;
    }
    return false;
}

bool tsrv_available(enum tsrv_kind kind)
{
    if (kind == TSRV_PADDOCK)
        return getenv("PADDOCK_BIN") != NULL;
    return java_found() && access(ZK_JAR, R_OK) == 0;
}

int tsrv_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

int tsrv_init(struct tsrv *s, enum tsrv_kind kind)
{
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    const char *tmp = getenv("TMPDIR");
    snprintf(s->dir, sizeof(s->dir), "%s/paddock-client-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(s->dir))
        return -1;
    snprintf(s->datadir, sizeof(s->datadir), "%s/data", s->dir);
    if (mkdir(s->datadir, 0700) != 0)
        return -1;
    s->port = tsrv_free_port();
    return s->port > 0 ? 0 : -1;
}

const char *tsrv_hosts(const struct tsrv *s, char *buf, size_t len)
{
    snprintf(buf, len, "127.0.0.1:%d", s->port);
    return buf;
}

static int write_config(const struct tsrv *s)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/zoo.cfg", s->dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f,
            "# written by tests/integration/client/server.c\n"
            "tickTime=500\ninitLimit=10\nsyncLimit=5\n"
            "dataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
            "maxClientCnxns=200\n4lw.commands.whitelist=*\nadmin.enableServer=false\n"
            "extendedTypesEnabled=true\nznode.container.checkIntervalMs=100\n",
            s->datadir, s->port);
    if (s->kind == TSRV_ZOOKEEPER) {
        char lp[300];
        snprintf(lp, sizeof(lp), "%s/log4j.properties", s->dir);
        FILE *l = fopen(lp, "w");
        if (l) {
            fprintf(l,
                    "log4j.rootLogger=INFO, FILE\n"
                    "log4j.appender.FILE=org.apache.log4j.FileAppender\n"
                    "log4j.appender.FILE.File=%s/server.log\n"
                    "log4j.appender.FILE.Append=true\n"
                    "log4j.appender.FILE.layout=org.apache.log4j.PatternLayout\n"
                    "log4j.appender.FILE.layout.ConversionPattern=%%d{ISO8601} [%%t] %%-5p "
                    "%%c{1} - %%m%%n\n",
                    s->dir);
            fclose(l);
        }
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* Sends a four-letter word and returns whether the answer contains `want`. */
static bool four_letter_has(int port, const char *word, const char *want)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct timeval tv = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool found = false;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        write(fd, word, strlen(word)) == (ssize_t)strlen(word)) {
        char buf[4096];
        size_t len = 0;
        for (int i = 0; i < 20 && len < sizeof(buf) - 1; i++) {
            ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
            if (n <= 0)
                break;
            len += (size_t)n;
        }
        buf[len] = '\0';
        found = strstr(buf, want) != NULL;
    }
    close(fd);
    return found;
}

static pid_t spawn(const struct tsrv *s)
{
    char cfg[300], log[300];
    snprintf(cfg, sizeof(cfg), "%s/zoo.cfg", s->dir);
    snprintf(log, sizeof(log), "%s/stdout.log", s->dir);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* child */
    setsid();
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) {
        dup2(null, 0);
        close(null);
    }
    if (chdir(s->dir) != 0)
        _exit(127);
    if (s->kind == TSRV_PADDOCK) {
        const char *bin = getenv("PADDOCK_BIN");
        execl(bin, bin, "server", cfg, (char *)NULL);
        _exit(127);
    }
    char log4j[320], cp[600];
    snprintf(log4j, sizeof(log4j), "-Dlog4j.configuration=file:%s/log4j.properties", s->dir);
    snprintf(cp, sizeof(cp), "%s", ZK_JAR);
    const char *extra[] = {"/usr/share/java/slf4j-log4j12.jar", "/usr/share/java/log4j-1.2.jar"};
    for (int i = 0; i < 2; i++) {
        if (access(extra[i], R_OK) == 0) {
            strncat(cp, ":", sizeof(cp) - strlen(cp) - 1);
            strncat(cp, extra[i], sizeof(cp) - strlen(cp) - 1);
        }
    }
    execlp("java", "java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
           "-Djava.net.preferIPv4Stack=true", log4j, "-Dzookeeper.admin.enableServer=false",
           "-Dzookeeper.extendedTypesEnabled=true", "-Dznode.container.checkIntervalMs=100", "-cp",
           cp, "org.apache.zookeeper.server.ZooKeeperServerMain", cfg, (char *)NULL);
    _exit(127);
}

int tsrv_start(struct tsrv *s)
{
    if (write_config(s) != 0)
        return -1;
    s->pid = spawn(s);
    if (s->pid < 0) {
        s->pid = 0;
        return -1;
    }
    long long deadline = mono_ms() + 40000;
    while (mono_ms() < deadline) {
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            fprintf(stderr, "server exited during startup (status %d)\n", status);
            s->pid = 0;
            tsrv_show_log(s);
            return -1;
        }
        /* Apache says imok before it serves; srvr says "not currently serving" until then. */
        if (four_letter_has(s->port, "srvr", "Zookeeper version:"))
            return 0;
        usleep(100 * 1000);
    }
    fprintf(stderr, "server not ready on port %d after 40 s\n", s->port);
    tsrv_show_log(s);
    tsrv_stop(s, SIGKILL);
    return -1;
}

void tsrv_stop(struct tsrv *s, int sig)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, sig);
    if (sig == SIGTERM) {
        long long deadline = mono_ms() + 5000;
        while (mono_ms() < deadline) {
            if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
                s->pid = 0;
                return;
            }
            usleep(20 * 1000);
        }
        kill(s->pid, SIGKILL);
    }
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

void tsrv_show_log(const struct tsrv *s)
{
    const char *names[] = {"stdout.log", "server.log"};
    for (int i = 0; i < 2; i++) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "tail -n 30 '%s/%s' >&2 2>/dev/null", s->dir, names[i]);
        if (system(cmd) != 0)
            continue;
    }
}

void tsrv_cleanup(struct tsrv *s)
{
    tsrv_stop(s, SIGTERM);
    if (getenv("PADDOCK_TEST_KEEP") || !s->dir[0])
        return;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", s->dir);
}
