import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/**
 * Refuse RPCs (other than health and reflection) at once while the server is
 * not ready or its database does not answer pings, instead of letting them
 * wait for a database that is not there.
 */
export function readinessInterceptor(isReady: () => boolean, databaseReachable: () => boolean): Interceptor {
  return (next) => async (req) => {
    if (req.service.typeName.startsWith("roster.")) {
      if (!isReady()) throw new ConnectError("the server is starting or stopping; retry shortly", Code.Unavailable);
      if (!databaseReachable()) throw new ConnectError("the database is unreachable; retry shortly", Code.Unavailable);
    }
    return next(req);
  };
}
