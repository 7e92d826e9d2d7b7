/* Messages for Paddock's error codes (err.h). */
#include "common/err.h"

const char *pd_strerror(int err)
{
    switch (err) {
#define PD_ERR_CASE(name, num, msg)                                                                \
    case -(num):                                                                                   \
        return msg;
        PD_ERRNO_MAP(PD_ERR_CASE)
#undef PD_ERR_CASE
    case 0:
        return "success";
    default:
        return "unknown error";
    }
}
