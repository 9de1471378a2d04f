// The JSON API, with the API key from this tab's sessionStorage (never a URL or a cookie, so
// no other site can make the browser send it).

const KEY = "samesay.apiKey";

export class ApiFailure extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details; // a validation error's [{field, message, type}]
  }
}

// An entry's ETag (its revision, quoted): what If-Match sends back.
export const ifMatch = (entry) => ({"If-Match": `"${entry.revision}"`});

export const apiKey = {
  get: () => sessionStorage.getItem(KEY) || "",
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

// `extra` headers, e.g. If-Match: a write that fails with 412 when the entry has changed
// since it was read, instead of overwriting someone else's edit.
export async function api(method, path, body, extra = {}) {
  const headers = {"Accept": "application/json", ...extra};
  const key = apiKey.get();
  if (key) headers["Authorization"] = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {method, headers, credentials: "omit", cache: "no-store",
                                  body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (error) {
    throw new ApiFailure(0, "network", `the service did not answer (${error.message})`);
  }
  const payload = await response.json().catch(() => null);
  if (!response.ok) {
    const info = payload && payload.error;
    if (info && info.message) {
      const details = (info.details || []).map((d) => `${d.field}: ${d.message}`).join("; ");
      throw new ApiFailure(response.status, info.code, details ? `${info.message} (${details})` : info.message,
                           info.details || []);
    }
    throw new ApiFailure(response.status, "http", `HTTP ${response.status}`);
  }
  return payload;
}
