import { grpcClient } from "./clients.js";
import type { TestServer } from "./server.js";

/** A user made for a test, with an API key holding the given rights (default: every user right). */
export interface TestUser {
  userId: string;
  email: string;
  key: string;
}

let counter = 0;

/** Create a user (as the bootstrap admin) and an API key for it. */
export async function createUser(
  server: TestServer,
  options: { userId?: string; admin?: boolean; rights?: string[]; password?: string; name?: string } = {},
): Promise<TestUser> {
  const userId = options.userId ?? `user-${process.pid}-${++counter}`;
  const email = `${userId}@example.com`;
  const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
  const access = grpcClient(server, "roster.v1.UserAccess", server.adminKey);
  try {
    await users.call("Create", {
      user: {
        user_id: userId,
        primary_email_address: email,
        name: options.name ?? `User ${userId}`,
        admin: !!options.admin,
      },
      password: options.password ?? "",
      // Tests that count mails expect none for their fixtures.
      send_email: false,
    });
    const created = await access.call("CreateAPIKey", {
      user_id: userId,
      name: "test key",
      rights: options.rights ?? (options.admin ? ["RIGHT_USER_ALL", "RIGHT_ADMIN_ALL"] : ["RIGHT_USER_ALL"]),
    });
    return { userId, email, key: created.key };
  } finally {
    users.close();
    access.close();
  }
}
