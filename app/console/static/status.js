// The one status line under the tabs: what the last action did, or the API's refusal.

export function say(message, kind = "ok") {
  const line = document.getElementById("status");
  line.textContent = message;
  line.className = `status ${kind}`;
}

export function refused(error) {
  const why = error.status === 401 || error.status === 403
    ? " — enter the API key at the top to make changes" : "";
  say(`Refused: ${error.message}${why}`, "error");
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
