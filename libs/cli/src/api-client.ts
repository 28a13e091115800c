import { CliError, EXIT, type ExitCode } from './exit-codes';

/** The API error body (docs/architecture.md §4). */
interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: { fields?: { field: string; message: string }[] } };
}

export interface ApiRequest {
  method?: string;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
}

function exitCodeFor(status: number): ExitCode {
  if (status === 400 || status === 413 || status === 422) return EXIT.INVALID_INPUT;
  if (status === 401 || status === 403) return EXIT.AUTH;
  if (status === 404) return EXIT.NOT_FOUND;
  if (status === 409) return EXIT.CONFLICT;
  return EXIT.UNAVAILABLE;
}

export function withQuery(urlPath: string, query: ApiRequest['query'] = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text === '' ? urlPath : `${urlPath}?${text}`;
}

/** One API (base URL + bearer token): JSON in and out, every failure a CliError with its exit code. */
export class ApiClient {
  constructor(
    readonly name: string,
    readonly baseUrl: string,
    private readonly token: string | undefined,
    private readonly tokenVariable: string,
  ) {}

  async request<T>(req: ApiRequest): Promise<T> {
    const res = await this.send(req);
    const text = await res.text();
    if (!res.ok) throw apiError(res.status, text);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** The raw response (for streams); a non-2xx answer is still a CliError. */
  async open(req: ApiRequest & { accept?: string; signal?: AbortSignal }): Promise<Response> {
    const res = await this.send(req);
    if (!res.ok) throw apiError(res.status, await res.text());
    return res;
  }

  private async send(req: ApiRequest & { accept?: string; signal?: AbortSignal }): Promise<Response> {
    if (this.token === undefined) {
      throw new CliError(
        EXIT.AUTH,
        `no token: set ${this.tokenVariable} (or run inside the repository after 'make up', which writes .run/dev.env)`,
      );
    }
    const url = `${this.baseUrl}${withQuery(req.path, req.query)}`;
    try {
      return await fetch(url, {
        method: req.method ?? 'GET',
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: req.accept ?? 'application/json',
          ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
        ...(req.signal === undefined ? {} : { signal: req.signal }),
      });
    } catch (err) {
      if (req.signal?.aborted === true) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        EXIT.UNAVAILABLE,
        `cannot reach the ${this.name} at ${this.baseUrl}: ${cause?.code ?? cause?.message ?? String(err)}`,
      );
    }
  }
}

function apiError(status: number, text: string): CliError {
  let body: ApiErrorBody = {};
  try {
    body = JSON.parse(text) as ApiErrorBody;
  } catch {
    // Not our error shape (a proxy's page): the status says enough.
  }
  const error = body.error;
  const fields = error?.details?.fields ?? [];
  const message =
    error === undefined
      ? `HTTP ${status}`
      : `${error.message ?? 'failed'} (${error.code ?? status})${
          fields.length > 1 ? `\n${fields.map((f) => `  ${f.field}: ${f.message}`).join('\n')}` : ''
        }`;
  return new CliError(exitCodeFor(status), message);
}
