// Plain-English explanations of Chromium's CorsError names, with the lab setting that fixes them.
// `{page_origin}` in the texts is replaced by the calling page's origin: this page's, or the one
// a pasted console message names (console.js).

// `{server}` is who answered: the lab's API, or the server of a pasted console message.
const PREFLIGHT_NOTE =
  'This was the preflight (OPTIONS): the browser stopped there and never sent the actual request, so {server} did not run it.';
const ACTUAL_NOTE =
  '{Server} received and handled the request anyway; the browser only hid the response from the script.';

// The six checks that exist for both the actual response and the preflight response.
const ORIGIN_CHECKS = {
  MissingAllowOriginHeader: {
    what: 'The response carried no Access-Control-Allow-Origin header, so the browser treats it as “not shared with other origins”.',
    fix: 'Allow this origin: list {page_origin} in CORS_ALLOW_ORIGINS (a comma list of exact origins), or restart with CORS_PRESET=permissive to allow any origin.',
  },
  AllowOriginMismatch: {
    what: 'Access-Control-Allow-Origin named an origin other than the calling page’s. It must equal {page_origin} byte for byte: same scheme, host and port, no trailing slash (localhost and 127.0.0.1 are different origins).',
    fix: 'Add exactly {page_origin} to CORS_ALLOW_ORIGINS.',
  },
  WildcardOriginNotAllowed: {
    what: 'The request was sent with credentials (credentials: \'include\'), and for those the browser refuses Access-Control-Allow-Origin: *. The server must name the exact origin.',
    fix: 'List the exact origin in CORS_ALLOW_ORIGINS instead of * and set CORS_ALLOW_CREDENTIALS=true (CORS_PRESET=strict does both); or do not send credentials.',
  },
  InvalidAllowCredentials: {
    what: 'The request was sent with credentials, but Access-Control-Allow-Credentials was missing or not exactly “true” (the value is case-sensitive).',
    fix: 'Set CORS_ALLOW_CREDENTIALS=true (together with an explicit CORS_ALLOW_ORIGINS list, not *), or CORS_PRESET=strict.',
  },
  MultipleAllowOriginValues: {
    what: 'Access-Control-Allow-Origin carried more than one value (a list, or the header sent twice). The browser accepts exactly one origin or *.',
    fix: 'The server must echo only the one matching origin. Check CORS_ALLOW_ORIGINS / CORS_PRESET (and any proxy that adds its own header).',
  },
  InvalidAllowOriginValue: {
    what: 'Access-Control-Allow-Origin held something that is neither * nor a valid origin (for example a path or a malformed URL).',
    fix: 'Use plain origins like {page_origin} in CORS_ALLOW_ORIGINS.',
  },
};

const EXPLANATIONS = {};
for (const [name, e] of Object.entries(ORIGIN_CHECKS)) {
  EXPLANATIONS[name] = { what: e.what, fix: e.fix, stage: 'actual' };
  EXPLANATIONS[`Preflight${name}`] = { what: e.what, fix: e.fix, stage: 'preflight' };
}

Object.assign(EXPLANATIONS, {
  PreflightInvalidStatus: {
    what: 'The preflight response did not have a 2xx status: the API refused the preflight (origin, method or headers not allowed) or failed.',
    fix: 'Allow what the preflight asked for: the origin in CORS_ALLOW_ORIGINS, the method in CORS_ALLOW_METHODS, the request headers in CORS_ALLOW_HEADERS (or CORS_PRESET=permissive).',
    stage: 'preflight',
  },
  MethodDisallowedByPreflightResponse: {
    what: 'The preflight answer’s Access-Control-Allow-Methods did not list the request method. The comparison is case-sensitive (patch is not PATCH), and GET, HEAD and POST never need listing.',
    fix: 'Add the method to CORS_ALLOW_METHODS (e.g. CORS_ALLOW_METHODS=GET,POST,PUT,DELETE).',
    stage: 'preflight',
  },
  HeaderDisallowedByPreflightResponse: {
    what: 'The script set a request header that the preflight answer’s Access-Control-Allow-Headers did not list (the console names it). Header names compare case-insensitively.',
    fix: 'Add the header name to CORS_ALLOW_HEADERS (e.g. CORS_ALLOW_HEADERS=content-type,x-token).',
    stage: 'preflight',
  },
  PreflightDisallowedRedirect: {
    what: 'The preflight was answered with a redirect (3xx). Browsers never follow redirects for preflights, whatever headers the redirect carries. Such a redirect usually comes from in front of the CORS code: a proxy sending http to https, a trailing-slash rule, a login page.',
    fix: 'Call the final URL directly, or let OPTIONS through to the API, which must answer it itself with 2xx (CORS_PRESET, CORS_ALLOW_ORIGINS and CORS_ALLOW_METHODS govern that answer).',
    stage: 'preflight',
  },
  InvalidAllowMethodsPreflightResponse: {
    what: 'The preflight’s Access-Control-Allow-Methods header could not be parsed as a list of method names.',
    fix: 'Use a plain comma-separated list in CORS_ALLOW_METHODS.',
    stage: 'preflight',
  },
  InvalidAllowHeadersPreflightResponse: {
    what: 'The preflight’s Access-Control-Allow-Headers header could not be parsed as a list of header names.',
    fix: 'Use a plain comma-separated list of header names in CORS_ALLOW_HEADERS.',
    stage: 'preflight',
  },
  RedirectContainsCredentials: {
    what: 'A redirect pointed to a URL that contains a user name or password, which CORS forbids.',
    fix: 'Redirect to a URL without credentials in it.',
    stage: 'actual',
  },
  DisallowedByMode: {
    what: 'The request mode (e.g. same-origin) does not allow cross-origin requests at all.',
    fix: 'Use the default mode (cors) in the fetch call.',
    stage: 'actual',
  },
});

/**
 * Explanation of a CorsError, with {page_origin} filled in.
 * `entryKind` ("preflight" | "actual"), when known, is the kind of the journal entry that failed;
 * `server` names who answered, in the stage note.
 * Returns { what, fix, stage, stageNote } — a generic text for unknown names.
 */
export function explain(corsError, pageOrigin, entryKind, server = 'the API') {
  const base = EXPLANATIONS[corsError] ?? {
    what: `Chromium reported ${corsError || 'a CORS error'}; the reason text above says what the check found.`,
    fix: 'Compare the CORS response headers in the journal entry with what the request needs; the policy is set with CORS_PRESET or the CORS_ALLOW_* variables.',
    stage: String(corsError).startsWith('Preflight') ? 'preflight' : 'actual',
  };
  const sub = (s) => s.replaceAll('{page_origin}', pageOrigin);
  const stage = entryKind === 'preflight' || entryKind === 'actual' ? entryKind : base.stage;
  return {
    what: sub(base.what),
    fix: sub(base.fix),
    stage,
    stageNote: (stage === 'preflight' ? PREFLIGHT_NOTE : ACTUAL_NOTE)
      .replaceAll('{server}', server)
      .replaceAll('{Server}', server.charAt(0).toUpperCase() + server.slice(1)),
  };
}

export const KNOWN_CORS_ERRORS = Object.keys(EXPLANATIONS);
