/* Names of ZooKeeper result codes (proto.h), for logs and tools. */
#include "jute/proto.h"

#include <stddef.h>

const char *zk_err_name(int err)
{
    switch (err) {
    case ZOK:
        return "OK";
    case ZSYSTEMERROR:
        return "SYSTEMERROR";
    case ZRUNTIMEINCONSISTENCY:
        return "RUNTIMEINCONSISTENCY";
    case ZDATAINCONSISTENCY:
        return "DATAINCONSISTENCY";
    case ZCONNECTIONLOSS:
        return "CONNECTIONLOSS";
    case ZMARSHALLINGERROR:
        return "MARSHALLINGERROR";
    case ZUNIMPLEMENTED:
        return "UNIMPLEMENTED";
    case ZOPERATIONTIMEOUT:
        return "OPERATIONTIMEOUT";
    case ZBADARGUMENTS:
        return "BADARGUMENTS";
    case ZUNKNOWNSESSION:
        return "UNKNOWNSESSION";
    case ZNEWCONFIGNOQUORUM:
        return "NEWCONFIGNOQUORUM";
    case ZRECONFIGINPROGRESS:
        return "RECONFIGINPROGRESS";
    case ZAPIERROR:
        return "APIERROR";
    case ZNONODE:
        return "NONODE";
    case ZNOAUTH:
        return "NOAUTH";
    case ZBADVERSION:
        return "BADVERSION";
    case ZNOCHILDRENFOREPHEMERALS:
        return "NOCHILDRENFOREPHEMERALS";
    case ZNODEEXISTS:
        return "NODEEXISTS";
    case ZNOTEMPTY:
        return "NOTEMPTY";
    case ZSESSIONEXPIRED:
        return "SESSIONEXPIRED";
    case ZINVALIDCALLBACK:
        return "INVALIDCALLBACK";
    case ZINVALIDACL:
        return "INVALIDACL";
    case ZAUTHFAILED:
        return "AUTHFAILED";
    case ZSESSIONMOVED:
        return "SESSIONMOVED";
    case ZNOTREADONLY:
        return "NOTREADONLY";
    case ZEPHEMERALONLOCALSESSION:
        return "EPHEMERALONLOCALSESSION";
    case ZNOWATCHER:
        return "NOWATCHER";
    case ZREQUESTTIMEOUT:
        return "REQUESTTIMEOUT";
    case ZRECONFIGDISABLED:
        return "RECONFIGDISABLED";
    case ZSESSIONCLOSEDREQUIRESASLAUTH:
        return "SESSIONCLOSEDREQUIRESASLAUTH";
    case ZQUOTAEXCEEDED:
        return "QUOTAEXCEEDED";
    case ZTHROTTLEDOP:
        return "THROTTLEDOP";
    default:
        return NULL;
    }
}
