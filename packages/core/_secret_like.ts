// Internal: the one rule for "this looks like a secret" in config files (an environment variable's or header's name,
// or a value in a known token format). Used to refuse secrets written in a file; never used to decide what to log.

/**
 * The one rule for names of credentials (core's `SECRET_ENV_NAME` is this expression). {@link isSecretName} applies it
 * to the name with camelCase, `-`, `.` and spaces turned into `_`, so that `GITHUB_TOKEN`, `apiKey`, `X-Api-Key`,
 * `Authorization`, `DB_PASSWORD`, `GITHUB_PAT`, `SESSION_ID` match and `PATH`, `KEYBOARD`, `AUTHOR` do not.
 */
export const SECRET_NAME: RegExp =
  /TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH(?!ORS?(?:_|$))|COOKIE|SESSION|(?:^|_)(?:KEY|PAT|PWD_?HASH)(?:_|$)/i;

/** Well-known token formats (GitHub, OpenAI/Anthropic-style `sk-`, Slack, AWS access keys, GitLab, npm, JWTs). */
const TOKEN_FORMATS: RegExp[] = [
  /(?<![A-Za-z0-9])gh[pousr]_[A-Za-z0-9]{20,}/,
  /(?<![A-Za-z0-9])github_pat_[A-Za-z0-9_]{20,}/,
  /(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{16,}/,
  /(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}/,
  /(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])/,
  /(?<![A-Za-z0-9])glpat-[A-Za-z0-9_-]{20,}/,
  /(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}/,
  /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/,
];

/** Whether an environment variable's or an HTTP header's name says it holds a credential. */
export function isSecretName(name: string): boolean {
  const normal = name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/[-. ]/g, "_");
  return SECRET_NAME.test(normal);
}

/** Whether a value contains a token in a well-known format, whatever its name. */
export function containsKnownToken(value: string): boolean {
  return TOKEN_FORMATS.some((format) => format.test(value));
}
