import type { RawSecretsConfig } from './config.js';

// Written for Conveyor from public facts about each provider's token format
// (prefixes, lengths, alphabets). Every rule carries keywords so the
// prefilter can skip it on text that cannot match.

const ASSIGN = `['"\`]?[ \\t]{0,3}(?:=|:=|:|=>|\\|\\|=)[ \\t]{0,3}['"\`]?`;

/**
 * Built-in rules whose patterns run on re2js rather than V8's engine: their
 * unbounded bodies make V8 backtrack per character (a stack overflow on a long
 * run), while RE2 scans them in one linear pass.
 */
export const RE2_ONLY_BUILT_IN_RULES: ReadonlySet<string> = new Set(['private-key', 'jwt']);

/**
 * Conveyor's built-in secret rules, in the raw `.gitleaks.toml` shape; what
 * `[extend] useDefault = true` starts from, and the rule set used when a
 * repository has no `.gitleaks.toml`.
 */
export const DEFAULT_SECRETS_CONFIG: RawSecretsConfig = {
  title: 'Conveyor built-in rules',
  rules: [
    {
      id: 'aws-access-key-id',
      description: 'AWS access key id',
      regex: '\\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\\b',
      keywords: ['akia', 'asia', 'abia', 'acca', 'a3t'],
      tags: ['aws', 'key'],
      allowlists: [{ description: 'AWS documentation samples', regexes: ['EXAMPLE$'] }],
    },
    {
      id: 'github-pat',
      description: 'GitHub personal access token (classic)',
      regex: '\\b(ghp_[0-9A-Za-z]{36})\\b',
      keywords: ['ghp_'],
      tags: ['github', 'token'],
    },
    {
      id: 'github-oauth',
      description: 'GitHub OAuth access token',
      regex: '\\b(gho_[0-9A-Za-z]{36})\\b',
      keywords: ['gho_'],
      tags: ['github', 'token'],
    },
    {
      id: 'github-app-token',
      description: 'GitHub App user-to-server or server-to-server token',
      regex: '\\b((?:ghu|ghs)_[0-9A-Za-z]{36})\\b',
      keywords: ['ghu_', 'ghs_'],
      tags: ['github', 'token'],
    },
    {
      id: 'github-refresh-token',
      description: 'GitHub refresh token',
      regex: '\\b(ghr_[0-9A-Za-z]{36,76})\\b',
      keywords: ['ghr_'],
      tags: ['github', 'token'],
    },
    {
      id: 'github-fine-grained-pat',
      description: 'GitHub fine-grained personal access token',
      regex: '\\b(github_pat_[0-9A-Za-z_]{82})\\b',
      keywords: ['github_pat_'],
      tags: ['github', 'token'],
    },
    {
      id: 'gitlab-pat',
      description: 'GitLab personal access token',
      regex: '\\b(glpat-[0-9A-Za-z_-]{20,64})(?:[^0-9A-Za-z_-]|$)',
      keywords: ['glpat-'],
      tags: ['gitlab', 'token'],
    },
    {
      id: 'gitea-token',
      description: 'Gitea access token (40 hex characters next to a gitea keyword)',
      regex: `(?i)gitea[\\w.-]{0,20}${ASSIGN}([0-9a-f]{40})(?:[^0-9a-z]|$)`,
      keywords: ['gitea'],
      tags: ['gitea', 'token'],
    },
    {
      id: 'slack-token',
      description: 'Slack bot, user, app or refresh token',
      regex: '\\b(xox[baprs]-(?:\\d+-)?\\d{6,}-[0-9A-Za-z-]{10,250})',
      keywords: ['xoxb-', 'xoxa-', 'xoxp-', 'xoxr-', 'xoxs-'],
      tags: ['slack', 'token'],
    },
    {
      id: 'slack-webhook-url',
      description: 'Slack incoming webhook URL',
      regex: '(hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{40,120})',
      keywords: ['hooks.slack.com'],
      tags: ['slack', 'webhook'],
    },
    {
      id: 'stripe-live-key',
      description: 'Stripe live secret or restricted key',
      regex: '\\b((?:sk|rk)_live_[0-9A-Za-z]{24,99})\\b',
      keywords: ['sk_live_', 'rk_live_'],
      tags: ['stripe', 'key'],
    },
    {
      id: 'google-api-key',
      description: 'Google API key',
      regex: '\\b(AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)',
      keywords: ['aiza'],
      tags: ['google', 'key'],
    },
    {
      id: 'telegram-bot-token',
      description: 'Telegram bot token',
      regex: '\\b(\\d{8,10}:AA[0-9A-Za-z_-]{33})(?:[^0-9A-Za-z_-]|$)',
      keywords: [':aa'],
      tags: ['telegram', 'token'],
    },
    {
      id: 'plane-api-key',
      description: 'Plane API key',
      regex: '\\b(plane_api_[0-9a-fA-F]{32,64})\\b',
      keywords: ['plane_api_'],
      tags: ['plane', 'key'],
    },
    {
      id: 'npm-access-token',
      description: 'npm access token',
      regex: '\\b(npm_[0-9A-Za-z]{36})\\b',
      keywords: ['npm_'],
      tags: ['npm', 'token'],
    },
    {
      id: 'openai-api-key',
      description: 'OpenAI API key',
      regex:
        '\\b(sk-(?:(?:proj|svcacct|admin)-)?[0-9A-Za-z_-]{20,74}T3BlbkFJ[0-9A-Za-z_-]{20,74}|sk-proj-[0-9A-Za-z_-]{80,200})(?:[^0-9A-Za-z_-]|$)',
      keywords: ['t3blbkfj', 'sk-proj-'],
      tags: ['openai', 'key'],
    },
    {
      id: 'anthropic-api-key',
      description: 'Anthropic API key',
      regex: '\\b(sk-ant-(?:api|admin)\\d{2}-[0-9A-Za-z_-]{80,120})(?:[^0-9A-Za-z_-]|$)',
      keywords: ['sk-ant-'],
      tags: ['anthropic', 'key'],
    },
    {
      id: 'private-key',
      description: 'PEM private key',
      // the body cannot hold '--' (it stops at the next '-----' line), so a BEGIN without END costs
      // only the text up to the next BEGIN: linear however many BEGIN lines there are
      regex:
        '(-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=:,. \\t\\r\\n]|-[A-Za-z0-9]){64,}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----)',
      keywords: ['-----begin'],
      tags: ['key', 'pem'],
    },
    {
      id: 'jwt',
      description: 'JSON Web Token',
      // a token starts where a run of base64url characters starts, so each run is tried once
      // (`\\b` would retry at every `-eyJ` inside one run: quadratic)
      regex: '(?:^|[^0-9A-Za-z_-])(eyJ[0-9A-Za-z_-]{15,}\\.eyJ[0-9A-Za-z_-]{15,}\\.[0-9A-Za-z_-]{10,}={0,2})',
      keywords: ['eyj'],
      tags: ['jwt'],
    },
    {
      id: 'generic-api-key',
      description: 'Generic secret assignment (api key, secret, password, token)',
      regex: `(?i)(?:api[_.-]?key|secret|passw(?:or)?d|pwd|token|access[_.-]?key|credentials?)[\\w.-]{0,20}${ASSIGN}([0-9A-Za-z_.=+/~@#$%^&*!-]{10,150})`,
      entropy: 3.5,
      keywords: ['key', 'secret', 'passw', 'pwd', 'token', 'credential'],
      tags: ['generic'],
      allowlists: [
        {
          description: 'references, identifiers and placeholders rather than values',
          regexTarget: 'secret',
          regexes: [
            '^(?:process\\.env|import\\.meta|os\\.environ|env\\.|self\\.|this\\.|config\\.|settings\\.)',
            '^[A-Za-z_]+(?:\\.[A-Za-z_]+)+$',
            '^[A-Z_]+$',
            '^\\$',
            '^[a-z]+(?:[A-Z][a-z]+)+$',
            // PascalCase type and class names (`SECRETS_CONFIG: RawSecretsConfig`)
            '^(?:[A-Z][a-z]+){2,}$',
          ],
          stopwords: [
            'example',
            'placeholder',
            'changeme',
            'change_me',
            'dummy',
            'sample',
            'xxxxxx',
            '******',
            'redacted',
            'your_',
            'your-',
            'yourtoken',
            'notasecret',
            'undefined',
            'localhost',
          ],
        },
      ],
    },
  ],
};
