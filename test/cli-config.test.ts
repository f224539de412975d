import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import tls from "node:tls";
import YAML from "yaml";
import { roster } from "./support/cli.js";
import { startServer, type TestServer } from "./support/server.js";

const closedServer = "http://127.0.0.1:9";

/**
 * A TLS front for the test server with a self-signed certificate for
 * 127.0.0.1, as an operator would put a proxy in front of Roster. It
 * speaks HTTP/2 and HTTP/1.1 (ALPN) and passes the bytes through.
 */
async function tlsFront(server: TestServer): Promise<{ url: string; caFile: string; close(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "roster-tls-"));
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1"].concat([
      "-subj",
      "/CN=roster-test",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ]),
    { stdio: "ignore" },
  );
  const [host, port] = server.address.split(":") as [string, string];
  const front = tls.createServer(
    { key: readFileSync(key), cert: readFileSync(cert), ALPNProtocols: ["h2", "http/1.1"] },
    (socket) => {
      const upstream = net.connect(Number(port), host);
      socket.pipe(upstream).pipe(socket);
      socket.on("error", () => upstream.destroy());
      upstream.on("error", () => socket.destroy());
    },
  );
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
  const { port: frontPort } = front.address() as net.AddressInfo;
  return { url: `https://127.0.0.1:${frontPort}`, caFile: cert, close: () => front.close() };
}

describe("roster configuration", () => {
  let server: TestServer;
  let front: Awaited<ReturnType<typeof tlsFront>>;

  before(async () => {
    server = await startServer();
    front = await tlsFront(server);
  });
  after(async () => {
    front.close();
    await server.stop();
  });

  const freshHome = () => mkdtempSync(join(tmpdir(), "roster-home-"));

  describe("roster config", () => {
    it("writes settings to $XDG_CONFIG_HOME/roster/config.yaml, readable by its owner only", async () => {
      const home = freshHome();
      assert.equal((await roster(["config", "set", "server", server.url], { configHome: home })).code, 0);
      const set = await roster(["config", "set", "api-key", server.adminKey], { configHome: home });
      assert.equal(set.code, 0, set.stderr);
      const path = join(home, "roster", "config.yaml");
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(join(home, "roster")).mode & 0o777, 0o700);
      assert.deepEqual(YAML.parse(readFileSync(path, "utf8")), { server: server.url, "api-key": server.adminKey });
      assert.equal((await roster(["config", "path"], { configHome: home })).stdout, `${path}\n`);
    });

    it("prints one setting as it is, and all of them with the API key hidden", async () => {
      const home = freshHome();
      for (const [key, value] of [
        ["api-key", server.adminKey],
        ["output", "yaml"],
      ] as const) {
        const set = await roster(["config", "set", key, value], { configHome: home });
        assert.equal(set.code, 0, set.stderr);
      }
      const one = await roster(["config", "get", "api-key"], { configHome: home });
      assert.equal(one.stdout, `${server.adminKey}\n`);
      const all = await roster(["config", "get", "-o", "json"], { configHome: home });
      assert.equal(all.code, 0, all.stderr);
      assert.equal(all.json().output, "yaml");
      assert.ok(!all.stdout.includes(server.adminKey), all.stdout);
      assert.match(all.json()["api-key"], /^rst_ak_.*hidden/);
    });

    it("prints nothing and exits 1 for a setting that is not set, as git config does", async () => {
      const res = await roster(["config", "get", "server"], { configHome: freshHome() });
      assert.equal(res.code, 1);
      assert.equal(res.stdout, "");
    });

    it("refuses unknown keys and values that would break every command, with exit 2", async () => {
      const home = freshHome();
      for (const [key, value, message] of [
        ["colour", "blue", /unknown key colour/],
        ["server", "localhost:8080", /server must be an http:\/\/ or https:\/\/ URL/],
        ["protocol", "carrier-pigeon", /protocol must be one of connect, grpc, grpc-web/],
        ["timeout", "soon", /timeout must be a duration/],
      ] as [string, string, RegExp][]) {
        const res = await roster(["config", "set", key, value], { configHome: home });
        assert.equal(res.code, 2, `${key}: ${res.stderr}`);
        assert.match(res.stderr, message);
      }
      assert.equal((await roster(["config", "get", "server"], { configHome: home })).code, 1, "nothing was written");
    });

    it("removes a setting with config unset", async () => {
      const home = freshHome();
      await roster(["config", "set", "server", server.url], { configHome: home });
      await roster(["config", "set", "output", "table"], { configHome: home });
      assert.equal((await roster(["config", "unset", "output"], { configHome: home })).code, 0);
      assert.deepEqual(YAML.parse(readFileSync(join(home, "roster", "config.yaml"), "utf8")), { server: server.url });
    });
  });

  describe("where settings come from", () => {
    it("connects with the server and API key of the config file", async () => {
      const home = freshHome();
      await roster(["config", "set", "server", server.url], { configHome: home });
      await roster(["config", "set", "api-key", server.adminKey], { configHome: home });
      const res = await roster(["users", "current"], { configHome: home, key: null });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.json().user_id, "admin");
    });

    it("lets ROSTER_* variables win over the file, and flags over the variables", async () => {
      const home = freshHome();
      await roster(["config", "set", "server", closedServer], { configHome: home });
      const fromEnv = await roster(["users", "current"], { configHome: home, server });
      assert.equal(fromEnv.code, 0, fromEnv.stderr);
      const fromFlag = await roster(["users", "current", "--server", closedServer], { configHome: home, server });
      assert.equal(fromFlag.code, 7, fromFlag.stderr);
      const keyFlag = await roster(["users", "current", "--api-key", "rst_ak_wrong"], { configHome: home, server });
      assert.equal(keyFlag.code, 6, keyFlag.stderr);
    });

    it("takes the output format and protocol from the file", async () => {
      const home = freshHome();
      await roster(["config", "set", "output", "yaml"], { configHome: home });
      await roster(["config", "set", "protocol", "grpc"], { configHome: home });
      const res = await roster(["users", "get", "admin", "--name"], { configHome: home, server });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(YAML.parse(res.stdout).name, "Administrator");
    });

    it("ignores the server's ROSTER_* variables", async () => {
      const res = await roster(["users", "current"], {
        server,
        env: { ROSTER_LISTEN: "0.0.0.0:1", ROSTER_CONFIG: "/nonexistent.yaml", ROSTER_DATA_DIR: "/nonexistent" },
      });
      assert.equal(res.code, 0, res.stderr);
    });

    it("reports a config file that is not a mapping as a usage error", async () => {
      const home = freshHome();
      await roster(["config", "set", "output", "json"], { configHome: home });
      writeFileSync(join(home, "roster", "config.yaml"), "- just\n- a list\n");
      const res = await roster(["users", "current"], { configHome: home, server });
      assert.equal(res.code, 2);
      assert.match(res.stderr, /config\.yaml is not a YAML mapping/);
    });

    it("gives up after --timeout with DEADLINE_EXCEEDED, exit 7", async () => {
      const res = await roster(["users", "list", "--all", "--timeout", "1ms"], { server });
      assert.equal(res.code, 7, res.stderr);
      assert.match(res.stderr, /^error: DEADLINE_EXCEEDED: /);
      const bad = await roster(["users", "list", "--timeout", "soon"], { server });
      assert.equal(bad.code, 2);
    });
  });

  describe("TLS", () => {
    for (const protocol of ["connect", "grpc"]) {
      it(`trusts the server's certificate with --ca-file over ${protocol}`, async () => {
        const res = await roster(
          ["users", "current", "--server", front.url, "--ca-file", front.caFile, "--protocol", protocol],
          { server },
        );
        assert.equal(res.code, 0, res.stderr);
        assert.equal(res.json().user_id, "admin");
      });

      it(`refuses a self-signed certificate without --ca-file or --insecure over ${protocol}`, async () => {
        const res = await roster(["users", "current", "--server", front.url, "--protocol", protocol], { server });
        assert.equal(res.code, 1);
        assert.match(res.stderr, /self-signed certificate.*--ca-file names its CA/);
      });

      it(`accepts any certificate with --insecure over ${protocol}`, async () => {
        const res = await roster(["users", "current", "--server", front.url, "--insecure", "--protocol", protocol], {
          server,
        });
        assert.equal(res.code, 0, res.stderr);
      });
    }

    it("takes the CA file from ROSTER_CA_FILE", async () => {
      const res = await roster(["users", "current"], {
        server,
        env: { ROSTER_SERVER: front.url, ROSTER_CA_FILE: front.caFile },
      });
      assert.equal(res.code, 0, res.stderr);
    });

    it("reports a CA file it cannot read as a usage error", async () => {
      const res = await roster(["users", "current", "--server", front.url, "--ca-file", "/nonexistent.pem"], {
        server,
      });
      assert.equal(res.code, 2);
      assert.match(res.stderr, /cannot read the CA file/);
    });
  });
});
