/*
 * Logging to stderr, one line per message, with a timestamp and level, in the
 * spirit of ZooKeeper's log lines. The server sets the level once at start.
 */
#ifndef PD_COMMON_LOG_H
#define PD_COMMON_LOG_H

enum pd_log_level { PD_LOG_DEBUG, PD_LOG_INFO, PD_LOG_WARN, PD_LOG_ERROR };

void pd_log_set_level(enum pd_log_level level);
void pd_log(enum pd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pd_debug(...) pd_log(PD_LOG_DEBUG, __VA_ARGS__)
#define pd_info(...)  pd_log(PD_LOG_INFO, __VA_ARGS__)
#define pd_warn(...)  pd_log(PD_LOG_WARN, __VA_ARGS__)
#define pd_error(...) pd_log(PD_LOG_ERROR, __VA_ARGS__)

#endif
