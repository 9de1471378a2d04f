// The one status line under the tabs: what the last action did, or the API's refusal.

export function say(message, kind = "ok") {
  const line = document.getElementById("status");
  line.textContent = message;
  line.className = `status ${kind}`;
}

// What to do about a refusal for want of a key ("" for any other failure). A 401 (no key,
// or a wrong one) shows the key box again, so that the hint can be followed.
export function keyHint(error) {
  if (error.status === 401) dispatchEvent(new Event("console:key-refused"));
  return error.status === 401 || error.status === 403
    ? " — enter the API key at the top to make changes" : "";
}

// An API failure on the status line. No answer at all (status 0: "the service did not
// answer (...)") is not a refusal: the request may never have reached the service.
export function refused(error) {
  if (error.status === 0) say(`${error.message.replace(/^./, (c) => c.toUpperCase())}.`, "error");
  else say(`Refused: ${error.message}${keyHint(error)}`, "error");
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
