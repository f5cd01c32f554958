/**
 * Configuration examples (usage guide, "Configuration Examples"): the development configuration (`ws://`,
 * `http://`, a short dev secret that draws a warning) and the production one (`wss://`, `https://`, the secret
 * from `PROD_SECRET`, 24 h tokens), each validated and then connected for real. The production member serves TLS
 * with a certificate made at run time by `openssl` (a throwaway CA and a certificate for localhost/127.0.0.1);
 * the example re-runs itself with `deno run --cert ca.pem` so that Deno trusts that CA.
 *
 * ```sh
 * deno run -A examples/configurations.ts
 * # with your own certificate (cert.pem, key.pem and the CA that signed it, ca.pem, in DIR):
 * deno run -A --cert DIR/ca.pem examples/configurations.ts --tls-dir DIR
 * ```
 *
 * @module
 */

import { ConfigError, type FederationConfig, FederationProxy, validateConfig } from "@federated-mcp/federation";
import { exampleFlags, exampleSecret, explain, LocalMember } from "./_support.ts";

const flags = exampleFlags({
  summary: "Validates and connects a development and a production (TLS) configuration.",
  strings: ["tls-dir"],
  usage: "[--tls-dir DIR (holding ca.pem, cert.pem, key.pem; run with --cert DIR/ca.pem)]",
  runningMembers: false,
});

/** Runs openssl; false when it is not installed. */
async function openssl(args: string[], cwd: string): Promise<boolean> {
  try {
    const { success, stderr } = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
      .output();
    if (!success) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr).trim()}`);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** A throwaway CA and a certificate it signed for localhost and 127.0.0.1, in a new temporary directory. */
async function makeCertificates(): Promise<string | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "federated-mcp-tls-" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await Deno.writeTextFile(
    `${dir}/leaf.ext`,
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n" +
      "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
  );
  const made = await openssl(
    [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "1",
      "-subj",
      "/CN=federated-mcp example CA",
    ],
    dir,
  ) &&
    await openssl(["req", ...ec, "-keyout", "key.pem", "-out", "leaf.csr", "-subj", "/CN=localhost"], dir) &&
    await openssl(
      ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1"]
        .concat(["-out", "cert.pem", "-extfile", "leaf.ext"]),
      dir,
    );
  if (made) return dir;
  await Deno.remove(dir, { recursive: true });
  return undefined;
}

const tlsDir = flags.string("tls-dir");
if (tlsDir === undefined) {
  const dir = await makeCertificates();
  if (dir) {
    // Deno trusts extra CAs given at start-up (--cert or DENO_CERT): run this example again with the new CA.
    console.log("Made a throwaway CA and a certificate for localhost/127.0.0.1; re-running with --cert ca.pem");
    const args = ["run", "-A", "--cert", `${dir}/ca.pem`, new URL(import.meta.url).pathname, "--tls-dir", dir];
    const child = new Deno.Command(Deno.execPath(), { args, stdin: "inherit", stdout: "inherit", stderr: "inherit" });
    const { code } = await child.output();
    await Deno.remove(dir, { recursive: true });
    Deno.exit(code);
  }
  console.log("openssl is not on PATH: the production configuration is validated but not connected over TLS");
}
const SECRET_KEY = exampleSecret(flags);

// ---- Development: plain ws:// and http:// on this machine, a short secret, 1 h tokens
await using devMember = await LocalMember.start("dev-server", "dev-secret");
const devPorts = { control: new URL(devMember.endpoints.control!).port, data: new URL(devMember.endpoints.data!).port };
// #region dev
const devConfig: FederationConfig = {
  serverId: "dev-server",
  endpoints: {
    control: `ws://localhost:${devPorts.control}/`, // ws://localhost:3000 in the guide
    data: `http://localhost:${devPorts.data}/`, // http://localhost:3001
  },
  auth: {
    type: "jwt",
    config: {
      secret: "dev-secret", // accepted with a one-time warning: secrets under 32 bytes are weak
      expiresIn: "1h",
    },
  },
};
// #endregion dev

await using proxy = new FederationProxy(SECRET_KEY);
validateConfig(devConfig);
console.log("development configuration: valid");
await proxy.registerServer(devConfig);
console.log(`development: dev-server ${proxy.getServerStatus("dev-server")?.state} over ws:// and http://`);

// ---- Production: TLS endpoints, the secret from PROD_SECRET, 24 h tokens
if (!Deno.env.get("PROD_SECRET")) {
  console.log("PROD_SECRET is not set: using this example's secret for it");
  Deno.env.set("PROD_SECRET", SECRET_KEY);
}
await using prodMember = tlsDir === undefined
  ? undefined
  : await LocalMember.start("prod-server", Deno.env.get("PROD_SECRET")!, {
    tls: { cert: await Deno.readTextFile(`${tlsDir}/cert.pem`), key: await Deno.readTextFile(`${tlsDir}/key.pem`) },
    paths: { control: "/ws", data: "/api" },
    onePort: true,
  });
const host = prodMember ? `localhost:${new URL(prodMember.endpoints.data!).port}` : "production.example.com";
// #region prod
const prodConfig: FederationConfig = {
  serverId: "prod-server",
  endpoints: {
    control: `wss://${host}/ws`, // wss://production.example.com/ws in the guide
    data: `https://${host}/api`,
  },
  auth: {
    type: "jwt",
    config: {
      secret: Deno.env.get("PROD_SECRET"),
      expiresIn: "24h",
    },
  },
};
// #endregion prod

// #region validate-production
// Production rules on top of validateConfig: a secret of at least 32 bytes, TLS on both endpoints
function validateProductionConfig(input: FederationConfig): FederationConfig {
  const config = validateConfig(input, { strictSecrets: true });
  const { control, data } = config.endpoints;
  if ((control && !control.startsWith("wss://")) || (data && !data.startsWith("https://"))) {
    throw new ConfigError(`Invalid endpoints of server '${config.serverId}': production requires wss:// and https://`, {
      field: "endpoints",
      serverId: config.serverId,
    });
  }
  if (config.auth?.type !== "jwt" || !config.auth.config.secret) {
    throw new ConfigError(`Invalid auth of server '${config.serverId}': production requires its own JWT secret`, {
      field: "auth.config.secret",
      serverId: config.serverId,
    });
  }
  return config;
}
// #endregion validate-production

validateProductionConfig(prodConfig);
console.log("production configuration: valid");
try {
  validateProductionConfig(devConfig);
  throw new Error("The development configuration passed the production rules");
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.log(`development configuration under the production rules: refused (${error.field}: ${error.message})`);
}

if (!prodMember) {
  console.log("production: not connected (needs openssl, or --tls-dir with ca.pem, cert.pem, key.pem and --cert)");
} else {
  try {
    await proxy.registerServer(prodConfig);
  } catch (error) {
    console.error(`production: registration failed: ${explain(error)}`);
    console.error(`Is the CA trusted? Run with: deno run -A --cert ${tlsDir}/ca.pem ${import.meta.filename}`);
    Deno.exit(1);
  }
  const result = await proxy.callTool("prod-server", "echo", { text: "over TLS" });
  const text = result.content[0]?.type === "text" ? result.content[0].text : "";
  console.log(
    `production: prod-server ${proxy.getServerStatus("prod-server")?.state} over wss:// and https:// (echo: ${text})`,
  );
}
