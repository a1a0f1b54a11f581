// njs helpers of the gateway (nginx.conf.template: js_import).

// tokenHash is the edge-authentication cache key: a SHA-256 of the
// Authorization header, so that no bearer token is ever written into
// nginx's cache files (which store each entry's key in clear).
function tokenHash(r) {
    var header = r.headersIn.Authorization || '';
    return require('crypto').createHash('sha256').update(header).digest('base64url');
}

export default { tokenHash };
