// The one status line under the tabs: what the last action did, or the API's refusal.

export function say(message, kind = "ok") {
  const line = document.getElementById("status");
  line.textContent = message;
  line.className = `status ${kind}`;
}

// What to do about a refusal for want of a key ("" for any other failure).
export function keyHint(error) {
  return error.status === 401 || error.status === 403
    ? " — enter the API key at the top to make changes" : "";
}

export function refused(error) {
  say(`Refused: ${error.message}${keyHint(error)}`, "error");
}

// Run an action; report its failure in the status line instead of failing silently.
export async function attempt(action) {
  try {
    return await action();
  } catch (error) {
    if (error && error.status !== undefined) refused(error);
    else say(`Error: ${error}`, "error");
    return undefined;
  }
}
