import { X509Certificate } from 'node:crypto';
import { parseWebhookScope } from '@stacklink/bitbucket';
import { Joi } from '@stacklink/config';
import { oauthClientInputSchema } from '@stacklink/contracts';
import { normalizeHostUrl } from '../domain/normalize-host-url';

/**
 * Request schemas. Every message names its field (validateInput reports the path); none quotes the
 * rejected value, because the value may be an access token.
 */
const hostUrl = Joi.string()
  .trim()
  .max(2048)
  .custom((value: string, helpers) => {
    const result = normalizeHostUrl(value);
    return result.ok ? result.value : helpers.message({ custom: `{{#label}} ${result.reason}` });
  });

const name = Joi.string()
  .trim()
  .min(1)
  .max(100)
  .pattern(/^[^\p{Cc}]+$/u)
  .messages({ 'string.pattern.base': '{{#label}} must not contain control characters' });

const username = Joi.string().trim().min(1).max(255);

const accessToken = Joi.string().min(1).max(4096).pattern(/^\S+$/).messages({
  'string.pattern.base': '{{#label}} must not contain spaces or line breaks',
  'string.empty': '{{#label}} must not be empty',
});

const description = Joi.string().trim().max(1000).allow('');

const labels = Joi.array()
  .items(
    Joi.string()
      .trim()
      .min(1)
      .max(64)
      .pattern(/^[A-Za-z0-9][A-Za-z0-9._:/=-]*$/)
      .messages({
        'string.pattern.base':
          '{{#label}} must start with a letter or digit and use only letters, digits and . _ : / = -',
      }),
  )
  .max(50)
  .unique();

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

const caCertificate = Joi.string()
  .max(256 * 1024)
  .custom((value: string, helpers) => {
    const blocks = value.match(PEM_BLOCK) ?? [];
    if (blocks.length === 0) {
      return helpers.message({
        custom: '{{#label}} must be one or more PEM certificates (-----BEGIN CERTIFICATE-----)',
      });
    }
    for (const block of blocks) {
      try {
        new X509Certificate(block);
      } catch {
        return helpers.message({ custom: '{{#label}} contains a certificate that cannot be parsed' });
      }
    }
    return value;
  });

const tls = Joi.object({ caCertificate });

// Managed or manual webhooks, per repository or project (docs/architecture.md §14).
const webhooks = Joi.object({
  mode: Joi.string().valid('manual', 'managed').required(),
  scope: Joi.string().valid('repository', 'project').default('repository'),
});

// The OAuth 2.0 client of sign in with Bitbucket (docs/architecture.md §15), shared with the console's form.
const oauth = oauthClientInputSchema;

export const createIntegrationSchema = Joi.object({
  name: name.required(),
  apiHost: hostUrl.required(),
  userFacingHost: hostUrl.required(),
  username: username.required(),
  accessToken: accessToken.required(),
  description,
  labels,
  tls,
  webhooks,
  oauth,
})
  .required()
  .label('body');

export const updateIntegrationSchema = Joi.object({
  // Accepted only unchanged (clients may send the whole object back); renaming is refused.
  name,
  apiHost: hostUrl,
  userFacingHost: hostUrl,
  username,
  accessToken,
  description: description.allow(null),
  labels,
  tls,
  webhooks,
  oauth: oauth.allow(null),
})
  .required()
  .min(1)
  .label('body')
  .messages({ 'object.min': 'body must change at least one field' });

// A webhook's scope (docs/architecture.md §12): `P/r` for one repository, `P` for a project.
export const webhookSecretQuerySchema = Joi.object({
  scope: Joi.string()
    .custom((value: string, helpers) =>
      parseWebhookScope(value) === undefined ? helpers.error('any.invalid') : value,
    )
    .messages({ 'any.invalid': '"scope" must be a project key or projectKey/repositorySlug' }),
});

export const deleteQuerySchema = Joi.object({
  force: Joi.boolean().truthy('1').falsy('0').default(false),
});

export const repositoryQuerySchema = Joi.object({
  project: Joi.string()
    .trim()
    .max(128)
    .pattern(/^~?[A-Za-z0-9_.-]+$/)
    .messages({
      'string.pattern.base': '{{#label}} must be a project key (letters, digits, _ or a ~user key)',
    }),
  filter: Joi.string().trim().max(255).allow(''),
  start: Joi.number().integer().min(0).default(0),
  limit: Joi.number().integer().min(1).max(100).default(25),
});
