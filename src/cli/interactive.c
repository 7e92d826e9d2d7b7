/*
 * The interactive shell: libedit's readline interface in callback mode, so
 * that one poll() waits for both a key and the server (watch events print
 * while the user types, as in zkCli). Line editing and the up/down history
 * are libedit's; TAB completes command names in the first word and znode
 * paths anywhere (a word starting with '/': the children of its parent
 * that start with what follows the last '/', as JLineZNodeCompleter).
 *
 * States: INSTALLED (a prompt is shown, keys go to libedit) -> a line is
 * accepted (on_line) -> REMOVED (the command runs with the terminal in its
 * normal mode) -> INSTALLED with the new prompt, until EOF or `quit`.
 *
 * libedit's callbacks take no context, so the shell being run is a
 * file-scope pointer; there is one shell per process.
 */
#include "cli/cli_int.h"

#include "common/alloc.h"

#include <editline/readline.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Completion of one path may wait this long for the server. */
enum { COMPLETE_TIMEOUT_MS = 2000 };

static struct cli *shell; /* the shell being run */
static bool is_installed; /* a prompt is up and libedit owns the terminal */
static bool has_line;     /* on_line got a line (or EOF) */
static char *line_read;   /* owned by us (libc free): the accepted line, NULL at EOF */
static char prompt[512];  /* what is shown */
static char **matches;    /* owned (pd_free), NULL-terminated: the current completions */

static const char *make_prompt(struct cli *c)
{
    int state = c->zk ? pdk_state(c->zk) : PDK_STATE_CLOSED;
    snprintf(prompt, sizeof(prompt), "[zk: %s(%s) %d] ", c->host ? c->host : "",
             cli_zk_state_name(state), c->command_count);
    return prompt;
}

static void on_line(char *line)
{
    line_read = line;
    has_line = true;
}

static void install(struct cli *c)
{
    rl_callback_handler_install(make_prompt(c), on_line);
    is_installed = true;
}

/* An event arrives while a prompt is up: start it on a fresh line, then
 * draw the prompt (its state may have changed) and what was typed again. */
static void before_event(struct cli *c)
{
    (void)c;
    if (is_installed)
        fflush(rl_outstream ? rl_outstream : stdout);
}

static void after_event(struct cli *c)
{
    if (!is_installed)
        return;
    rl_set_prompt(make_prompt(c));
    rl_forced_update_display();
}

/* ---- completion ------------------------------------------------------------------- */

static void free_matches(void)
{
    for (int i = 0; matches && matches[i]; i++)
        pd_free(matches[i]);
    pd_free(matches);
    matches = NULL;
}

static int add_match(int *n, char *m)
{
    if (!m)
        return -1;
    char **grown = pd_realloc(matches, (size_t)(*n + 2) * sizeof(*grown));
    if (!grown) {
        pd_free(m);
        return -1;
    }
    matches = grown;
    matches[(*n)++] = m;
    matches[*n] = NULL;
    return 0;
}

static int compare_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect_commands(const char *text)
{
    int n = 0;
    for (int i = 0; cli_command_names[i]; i++)
        if (strncmp(cli_command_names[i], text, strlen(text)) == 0)
            if (add_match(&n, pd_strdup(cli_command_names[i])) != 0)
                return;
}

static void collect_paths(const char *text)
{
    char *dir;
    const char *prefix;
    if (cli_complete_split(text, &dir, &prefix) != 0 || !dir)
        return;
    struct pdk_result *res = cli_children(shell, dir, COMPLETE_TIMEOUT_MS);
    int n = 0;
    for (int32_t i = 0; res && i < res->strings.count; i++) {
        const char *child = res->strings.items[i];
        if (strncmp(child, prefix, strlen(prefix)) != 0)
            continue;
        size_t len = strlen(dir) + strlen(child) + 2;
        char *full = pd_malloc(len);
        if (full)
            snprintf(full, len, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", child);
        if (add_match(&n, full) != 0)
            break;
    }
    if (n > 1)
        qsort(matches, (size_t)n, sizeof(*matches), compare_str);
    pdk_result_free(res);
    pd_free(dir);
}

/* Hands libedit the collected matches one by one (it frees them with free()). */
static char *next_match(const char *text, int state)
{
    static int at;
    (void)text;
    if (state == 0)
        at = 0;
    if (!matches || !matches[at])
        return NULL;
    return strdup(matches[at++]);
}

static char **complete(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1; /* never libedit's file names */
    free_matches();
    bool is_first_word = true;
    for (int i = 0; i < start; i++)
        if (rl_line_buffer[i] != ' ' && rl_line_buffer[i] != '\t')
            is_first_word = false;
    if (text[0] == '/') {
        /* A path may have children to go on with: no space after it. */
        rl_completion_append_character = '\0';
        collect_paths(text);
    } else if (is_first_word) {
        rl_completion_append_character = ' ';
        collect_commands(text);
    }
    if (!matches)
        return NULL;
    return rl_completion_matches(text, next_match);
}

/* ---- the loop ------------------------------------------------------------------------ */

static void run_line(struct cli *c, int *status)
{
    rl_callback_handler_remove();
    is_installed = false;
    has_line = false;
    char *line = line_read;
    line_read = NULL;
    if (!line) {
        /* EOF (^D): end the prompt's line, as a shell does. */
        fputc('\n', c->out);
        c->is_quit = true;
        return;
    }
    if (line[strspn(line, " \t")] != '\0')
        add_history(line);
    *status = cli_execute_line(c, line);
    free(line);
    if (!c->is_quit)
        install(c);
}

int cli_interactive(struct cli *c)
{
    shell = c;
    c->before_event = before_event;
    c->after_event = after_event;
    rl_readline_name = "paddock";
    rl_attempted_completion_function = complete;
    rl_completer_word_break_characters = " \t";
    using_history();
    fprintf(c->out, "Welcome to ZooKeeper!\nJLine support is enabled\n");
    fflush(c->out);
    install(c);
    int status = CLI_OK;
    while (!c->is_quit) {
        struct pollfd fds[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = -1}};
        int timeout_ms = -1;
        if (c->zk) {
            int events;
            pdk_interest(c->zk, pdk_now_ms(), &events, &timeout_ms);
            fds[1] = (struct pollfd){.fd = pdk_fd(c->zk), .events = (short)events};
        }
        int n = poll(fds, 2, timeout_ms);
        if (n < 0 && errno != EINTR)
            break;
        if (c->zk && (n == 0 || (n > 0 && fds[1].revents)))
            pdk_process(c->zk, n > 0 ? fds[1].revents : 0, pdk_now_ms());
        if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            rl_callback_read_char();
            if (has_line)
                run_line(c, &status);
        }
    }
    if (is_installed)
        rl_callback_handler_remove();
    is_installed = false;
    free_matches();
    c->before_event = NULL;
    c->after_event = NULL;
    shell = NULL;
    return status;
}
