// Talks to the practicegen HTTP API: adds the key, unwraps the `{success, data}` envelope and
// turns the `{success: false, error}` envelope (or a network failure) into an ApiError.

const KEY_STORAGE = "practicegen.apiKey";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details ?? {};
  }
}

export function storedKey() {
  return sessionStorage.getItem(KEY_STORAGE) ?? "";
}

export function storeKey(key) {
  if (key) {
    sessionStorage.setItem(KEY_STORAGE, key);
  } else {
    sessionStorage.removeItem(KEY_STORAGE);
  }
}

function headers(extra) {
  const result = { Accept: "application/json", ...extra };
  const key = storedKey();
  if (key) {
    result.Authorization = `Bearer ${key}`;
  }
  return result;
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: a proxy's error page, say
  }
  const error = body?.error;
  if (error?.code) {
    return new ApiError(response.status, error.code, error.message, error.details);
  }
  return new ApiError(response.status, "http_error", `HTTP ${response.status} ${response.statusText}`);
}

// Sends one request; returns {status, body, headers}. 304 has no body. Throws ApiError.
export async function request(method, path, { json, extraHeaders, signal } = {}) {
  const init = { method, headers: headers(extraHeaders), signal, cache: "no-store" };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (exc) {
    if (exc.name === "AbortError") throw exc;
    throw new ApiError(0, "network_error", `Could not reach the server: ${exc.message}`);
  }
  if (!response.ok && response.status !== 304) {
    throw await errorFrom(response);
  }
  const body = response.status === 304 ? null : await response.json();
  return { status: response.status, body, headers: response.headers };
}

// The `data` of an enveloped answer.
export async function data(method, path, options) {
  const { body } = await request(method, path, options);
  return body.data;
}

// A paged list read a page at a time: each `next()` gives the next page's items, and `done`
// says when the list has no more (its last `next_cursor` was null).
export function pages(path, { limit = 50 } = {}) {
  let cursor = null;
  let done = false;
  return {
    get done() { return done; },
    async next() {
      const url = new URL(path, location.origin);
      url.searchParams.set("limit", String(limit));
      if (cursor) url.searchParams.set("cursor", cursor);
      const result = await data("GET", url.pathname + url.search);
      cursor = result.next_cursor;
      done = !cursor;
      return result.items;
    },
  };
}

// Every item of a paged list, following `next_cursor` for at most `maxPages` pages.
export async function listAll(path, { maxPages = 10 } = {}) {
  const items = [];
  const reader = pages(path, { limit: 200 });
  for (let page = 0; page < maxPages && !reader.done; page += 1) items.push(...await reader.next());
  return items;
}
